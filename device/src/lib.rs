//! # lat-device
//!
//! The one parser of the `--device` names every lat binary takes: `cpu` (burn-flex) and
//! `wgpu` (the GPU, when built with the `wgpu` feature). The libraries never pick a
//! backend; binaries call [`parse_device`].

use burn::tensor::Device;

/// Device names in the order `--help` lists them.
pub const DEVICE_NAMES: [&str; 2] = ["cpu", "wgpu"];

/// A `--device` value this build cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// Not a device name at all.
    #[error("unknown device `{0}` (choose cpu or wgpu)")]
    Unknown(String),
    /// A device this binary was built without.
    #[error("device `{0}` is not compiled in (build with the `{1}` feature)")]
    NotCompiled(String, &'static str),
}

/// The device `name` stands for.
pub fn parse_device(name: &str) -> Result<Device, DeviceError> {
    match name {
        #[cfg(feature = "flex")]
        "cpu" => Ok(Device::flex()),
        #[cfg(not(feature = "flex"))]
        "cpu" => Err(DeviceError::NotCompiled(name.into(), "flex")),
        #[cfg(feature = "wgpu")]
        "wgpu" => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        #[cfg(not(feature = "wgpu"))]
        "wgpu" => Err(DeviceError::NotCompiled(name.into(), "wgpu")),
        other => Err(DeviceError::Unknown(other.into())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_devices_or_say_what_is_missing() {
        assert_eq!(
            parse_device("tpu").unwrap_err(),
            DeviceError::Unknown("tpu".into())
        );
        #[cfg(feature = "flex")]
        assert!(parse_device("cpu").is_ok());
        #[cfg(not(feature = "wgpu"))]
        assert_eq!(
            parse_device("wgpu").unwrap_err().to_string(),
            "device `wgpu` is not compiled in (build with the `wgpu` feature)"
        );
    }
}
