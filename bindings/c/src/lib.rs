//! `librealface.so`: the C ABI of [`realface`](../realface/index.html) (its
//! `ffi` module, `include/realface.h`) as a shared library. This crate adds
//! no code: it links the library, whose `#[no_mangle]` functions the shared
//! library exports. Built with the workspace, it reuses the library already
//! compiled for everything else (a `cargo rustc --crate-type cdylib` of the
//! library itself compiled it a second time).
//!
//! ```sh
//! cargo build --release -p realface-c   # target/release/librealface.so
//! ```

pub use rf::ffi;
