//! The C-API corners of the `mod_wsgi` Python module that PyO3 has no safe
//! wrapper for (the module itself is built in `wsgi::api`).

pub(crate) mod async_exc;
pub(crate) mod gil_wait;
