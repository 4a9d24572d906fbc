//! Giving the memory a bulk call freed back to the system.
//!
//! A billing run over 100,000 clients or the import of a 100,000-payment statement allocates
//! and frees tens of megabytes in many small pieces across the runtime's threads. glibc keeps
//! freed memory in its arenas for reuse, scattered between pieces still in use, so the
//! daemon's resident size stays near the call's peak long after it — and the next bulk call
//! adds its own peak on top (measured: 60–70 MB of a statement import's 171–185 MB peak was
//! memory the billing run before it had freed). `malloc_trim` returns every free page of
//! every arena. Nothing here frees anything; it only lets the system have back what was
//! already free, once a bulk call is over.

/// Returns the allocator's free pages to the system (glibc only; elsewhere nothing to do).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointer and has no precondition; it only walks glibc's
    // own arenas under their locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
