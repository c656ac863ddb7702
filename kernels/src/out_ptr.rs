//! An output buffer's base pointer, shared by parallel tasks that each write their own
//! disjoint part of it (GEMM tiles, attention heads' columns).

/// Raw output pointer handed to rayon tasks.
#[derive(Clone, Copy)]
pub(crate) struct OutPtr(pub(crate) *mut f32);
// SAFETY: every user has each task write a distinct part of the buffer, and nothing reads
// it until all tasks have finished.
unsafe impl Send for OutPtr {}
// SAFETY: as above.
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// The element `offset` floats in; a method so that closures capture the wrapper.
    pub(crate) fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}
