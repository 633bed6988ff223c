//! Raw bindgen output for the Apache httpd and APR headers (see build.rs).
//! Nothing else lives here; the safe layer is in the sibling modules.
#![allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    improper_ctypes,
    unnecessary_transmutes,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]
include!(concat!(env!("OUT_DIR"), "/httpd_bindings.rs"));
