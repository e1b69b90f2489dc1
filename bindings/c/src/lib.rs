//! `librealface.so`: the C ABI of the library ([`rf::ffi`], declared in
//! `include/realface.h`) as a shared library. This crate adds no code: it
//! links the library, whose `#[no_mangle]` functions the shared library
//! exports. Built with the workspace, it reuses the library compiled for
//! everything else.
//!
//! ```sh
//! cargo build --release -p realface-c   # target/release/librealface.so
//! ```

pub use rf::ffi;
