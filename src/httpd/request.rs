//! `request_rec`: the request as the rest of the module sees it.

use super::ffi;
use super::pool::{cstr_bytes, opt_cstr_bytes, Pool};
use super::table::Table;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileKind {
    Missing,
    File,
    Directory,
    Other,
}

/// A request being processed by this Apache thread.
#[repr(transparent)]
pub(crate) struct Request(std::cell::UnsafeCell<ffi::request_rec>);

macro_rules! bytes_field {
    ($($name:ident),*) => {$(
        pub(crate) fn $name(&self) -> &[u8] {
            // SAFETY: request_rec string fields are NULL or NUL-terminated
            // strings in the request pool, alive as long as the request.
            unsafe { cstr_bytes(self.rec().$name) }
        }
    )*};
}

macro_rules! table_field {
    ($($name:ident),*) => {$(
        pub(crate) fn $name(&self) -> &Table {
            // SAFETY: Apache creates these tables with the request.
            unsafe { Table::from_raw(self.rec().$name) }
        }
    )*};
}

impl Request {
    /// # Safety
    /// `r` must be the live request handed to a hook, valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(r: *mut ffi::request_rec) -> &'a Request {
        // SAFETY: guaranteed by the caller; repr(transparent).
        unsafe { &*(r as *const Request) }
    }

    pub(crate) fn raw(&self) -> *mut ffi::request_rec {
        self.0.get()
    }

    /// Shared view of the fields.
    fn rec(&self) -> &ffi::request_rec {
        // SAFETY: the request is live; fields are only written through
        // `update` by the thread that owns the request, never while a
        // shared view is held.
        unsafe { &*self.0.get() }
    }

    /// Writes fields: the exclusive view lives only inside `f`, which
    /// must not reach the request through `self` (compute values first).
    fn update(&self, f: impl FnOnce(&mut ffi::request_rec)) {
        // SAFETY: Apache hands one request to one thread at a time; the
        // module writes its fields only from that thread, as C modules do,
        // and the UnsafeCell makes writes through &Request sound. The
        // &mut does not outlive `f`, and no shared view is alive meanwhile.
        f(unsafe { &mut *self.0.get() })
    }

    pub(crate) fn pool(&self) -> &Pool {
        // SAFETY: the request pool lives as long as the request.
        unsafe { Pool::from_raw(self.rec().pool) }
    }

    bytes_field!(
        uri,
        method,
        filename,
        path_info,
        unparsed_uri,
        protocol,
        handler
    );
    table_field!(
        headers_in,
        headers_out,
        err_headers_out,
        subprocess_env,
        notes
    );

    pub(crate) fn args(&self) -> Option<&[u8]> {
        // SAFETY: NULL or a pool string.
        unsafe { opt_cstr_bytes(self.rec().args) }
    }

    pub(crate) fn user(&self) -> Option<&[u8]> {
        // SAFETY: NULL or a pool string.
        unsafe { opt_cstr_bytes(self.rec().user) }
    }

    pub(crate) fn log_id(&self) -> Option<&[u8]> {
        // SAFETY: NULL or a pool string.
        unsafe { opt_cstr_bytes(self.rec().log_id) }
    }

    /// The request's log id, generated the way Apache does for `%L` (the
    /// `generate_log_id` hook: mod_unique_id's, else core's) when no module
    /// has assigned one yet; the id then also tags the request's log lines.
    pub(crate) fn ensure_log_id(&self) -> Option<&[u8]> {
        if self.rec().log_id.is_null() {
            let mut id: *const std::os::raw::c_char = std::ptr::null();
            // SAFETY: the connection and request are live; the hook writes
            // a pool string (or nothing) into `id`.
            unsafe { ffi::ap_run_generate_log_id(self.rec().connection, self.raw(), &mut id) };
            if !id.is_null() {
                self.update(|r| r.log_id = id);
            }
        }
        self.log_id()
    }

    /// The connection's log id, when a module (or a `%{c}L` log format)
    /// has assigned one.
    pub(crate) fn connection_log_id(&self) -> Option<&[u8]> {
        // SAFETY: the connection outlives the request; NULL or a pool string.
        unsafe { opt_cstr_bytes((*self.rec().connection).log_id) }
    }

    /// The response status set so far.
    pub(crate) fn status(&self) -> u16 {
        self.rec().status.clamp(0, 999) as u16
    }

    /// A HEAD request: headers only.
    pub(crate) fn header_only(&self) -> bool {
        self.rec().header_only != 0
    }

    /// The request's start, in microseconds since the epoch.
    pub(crate) fn request_time(&self) -> i64 {
        self.rec().request_time
    }

    pub(crate) fn file_kind(&self) -> FileKind {
        match self.rec().finfo.filetype {
            ffi::apr_filetype_e_APR_NOFILE => FileKind::Missing,
            ffi::apr_filetype_e_APR_REG => FileKind::File,
            ffi::apr_filetype_e_APR_DIR => FileKind::Directory,
            _ => FileKind::Other,
        }
    }

    /// The modification time of `r->filename` (microseconds since the
    /// epoch) as Apache's directory walk found it, when that is a regular
    /// file (a symbolic link it was allowed to follow is the target's).
    pub(crate) fn file_mtime_us(&self) -> Option<i64> {
        let f = &self.rec().finfo;
        (f.filetype == ffi::apr_filetype_e_APR_REG && f.valid & ffi::APR_FINFO_MTIME != 0)
            .then_some(f.mtime)
    }

    pub(crate) fn set_filename(&self, name: &[u8]) {
        let p = self.pool().strdup(name);
        self.update(|r| r.filename = p);
    }

    pub(crate) fn set_path_info(&self, path_info: &[u8]) {
        let p = self.pool().strdup(path_info);
        self.update(|r| r.path_info = p);
    }

    pub(crate) fn set_handler(&self, handler: &'static CStr) {
        self.update(|r| r.handler = handler.as_ptr());
    }

    /// Options (ExecCGI etc.) in force for this request.
    pub(crate) fn allow_options(&self) -> c_int {
        // SAFETY: reads the per-dir core config of a live request.
        unsafe { ffi::ap_allow_options(self.raw()) }
    }

    pub(crate) fn set_status(&self, status: u16, line: &[u8]) {
        let line = self.pool().strdup(line);
        self.update(|r| {
            r.status = status as c_int;
            r.status_line = line;
        });
    }

    pub(crate) fn set_content_type(&self, ct: &[u8]) {
        let p = self.pool().strdup(ct);
        // SAFETY: the string lives in the request pool.
        unsafe { ffi::ap_set_content_type(self.raw(), p) }
    }

    /// Adds a response header; copies both into the request pool.
    pub(crate) fn add_header_out(&self, err_headers: bool, name: &[u8], value: &[u8]) {
        let table = if err_headers {
            self.err_headers_out()
        } else {
            self.headers_out()
        };
        let k = self.pool().strdup(name);
        let v = self.pool().strdup(value);
        // SAFETY: both strings were just copied into the request pool.
        unsafe { table.add_pooled(k, v) }
    }

    /// Sets up reading of the request body (ap_setup_client_block);
    /// returns Apache's status (OK, or e.g. 411/413/400).
    pub(crate) fn setup_client_block(&self, allow_chunked: bool) -> c_int {
        let policy = if allow_chunked {
            ffi::REQUEST_CHUNKED_DECHUNK
        } else {
            ffi::REQUEST_CHUNKED_ERROR
        };
        // SAFETY: live request, called once before reading.
        unsafe { ffi::ap_setup_client_block(self.raw(), policy) }
    }

    /// Reads body bytes: Ok(0) at the end; Err on a read error (the client
    /// went away, timed out, or sent a malformed or oversized body).
    pub(crate) fn read_body(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        // SAFETY: writes at most buf.len() bytes into buf.
        let n = unsafe {
            ffi::ap_get_client_block(self.raw(), buf.as_mut_ptr() as *mut c_char, buf.len())
        };
        if n < 0 {
            Err(std::io::Error::other(
                "the client went away, timed out or sent a malformed body",
            ))
        } else {
            Ok(n as usize)
        }
    }

    /// `read_body` into memory not yet initialised: appends what one read
    /// brings to the filled part of `buf`; Ok(0) at the end.
    pub(crate) fn read_body_into(
        &self,
        buf: &mut crate::os::uninit::UninitBuf<'_>,
    ) -> std::io::Result<usize> {
        // SAFETY: ap_get_client_block writes at most `len` bytes at `ptr`
        // and returns how many it wrote (or < 0 without a usable count);
        // only that count is marked filled.
        let n = unsafe {
            let (ptr, len) = buf.unfilled_raw();
            let n = ffi::ap_get_client_block(self.raw(), ptr as *mut c_char, len);
            if n > 0 {
                buf.assume_filled(n as usize);
            }
            n
        };
        if n < 0 {
            Err(std::io::Error::other(
                "the client went away, timed out or sent a malformed body",
            ))
        } else {
            Ok(n as usize)
        }
    }

    /// The declared Content-Length of the request body, if any.
    pub(crate) fn remaining(&self) -> i64 {
        self.rec().remaining
    }

    pub(crate) fn read_chunked(&self) -> bool {
        self.rec().read_chunked != 0
    }

    /// Writes out whatever the connection's filters hold (after the
    /// response's EOS, Apache keeps small responses buffered until the
    /// handler returns).
    pub(crate) fn flush_connection(&self) {
        // SAFETY: the connection is live; ap_flush_conn passes a FLUSH
        // bucket down its output filters.
        unsafe { ffi::ap_flush_conn(self.rec().connection) }
    }

    /// The timeout (microseconds) of the socket to the client, which
    /// Apache's output filters write the response with.
    pub(crate) fn client_socket_timeout(&self) -> Option<i64> {
        // SAFETY: the connection is live; ap_get_conn_socket returns its
        // socket (or NULL), and apr_socket_timeout_get writes one value.
        unsafe {
            let sock = ffi::ap_get_conn_socket(self.rec().connection);
            let mut t: ffi::apr_interval_time_t = 0;
            (!sock.is_null() && ffi::apr_socket_timeout_get(sock, &mut t) == 0).then_some(t)
        }
    }

    /// Sets the timeout (microseconds) of the socket to the client.
    pub(crate) fn set_client_socket_timeout(&self, us: i64) {
        // SAFETY: as for `client_socket_timeout`.
        unsafe {
            let sock = ffi::ap_get_conn_socket(self.rec().connection);
            if !sock.is_null() {
                ffi::apr_socket_timeout_set(sock, us);
            }
        }
    }

    pub(crate) fn bucket_alloc(&self) -> *mut ffi::apr_bucket_alloc_t {
        // SAFETY: the connection outlives the request.
        unsafe { (*self.rec().connection).bucket_alloc }
    }

    /// Names of the output filters on this request, outermost first.
    pub(crate) fn output_filter_names(&self) -> Vec<&[u8]> {
        let mut names = Vec::new();
        let mut f = self.rec().output_filters;
        while !f.is_null() {
            // SAFETY: filters form a NULL-terminated list owned by Apache.
            unsafe {
                if !(*f).frec.is_null() {
                    names.push(cstr_bytes((*(*f).frec).name));
                }
                f = (*f).next;
            }
        }
        names
    }

    pub(crate) fn server(&self) -> &super::server::Server {
        // SAFETY: a request's server outlives the request.
        unsafe { super::server::Server::from_raw(self.rec().server) }
            .expect("a request always has a server")
    }

    /// This module's per-directory configuration for the request.
    /// The request's per-directory config vector (see `slots`).
    pub(super) fn per_dir_vector(&self) -> *mut ffi::ap_conf_vector_t {
        self.rec().per_dir_config
    }

    /// The request's per-request config vector (see `slots`).
    pub(super) fn request_vector(&self) -> *mut ffi::ap_conf_vector_t {
        self.rec().request_config
    }

    /// The server's port as used for SERVER_PORT.
    pub(crate) fn server_port(&self) -> u16 {
        // SAFETY: live request.
        unsafe { ffi::ap_get_server_port(self.raw()) }
    }

    /// The server name for this request (ServerName/Host as Apache decides).
    pub(crate) fn server_name(&self) -> &[u8] {
        // SAFETY: returns a string in the request's or server's pool.
        unsafe { cstr_bytes(ffi::ap_get_server_name(self.raw())) }
    }

    pub(crate) fn hostname(&self) -> Option<&[u8]> {
        // SAFETY: NULL or a pool string.
        unsafe { opt_cstr_bytes(self.rec().hostname) }
    }

    pub(crate) fn document_root(&self) -> &[u8] {
        // SAFETY: returns a config string that outlives the request.
        unsafe { cstr_bytes(ffi::ap_document_root(self.raw())) }
    }

    pub(crate) fn context_prefix(&self) -> &[u8] {
        // SAFETY: as for document_root.
        unsafe { cstr_bytes(ffi::ap_context_prefix(self.raw())) }
    }

    pub(crate) fn context_document_root(&self) -> &[u8] {
        // SAFETY: as for document_root.
        unsafe { cstr_bytes(ffi::ap_context_document_root(self.raw())) }
    }

    /// SERVER_SIGNATURE ("" unless ServerSignature is on).
    pub(crate) fn useragent_ip(&self) -> &[u8] {
        // SAFETY: a request-pool or connection-pool string.
        unsafe { cstr_bytes(self.rec().useragent_ip) }
    }

    /// The address of the TCP peer (a proxy, when there is one).
    pub(crate) fn client_ip(&self) -> &[u8] {
        // SAFETY: the connection and its strings outlive the request.
        unsafe { cstr_bytes((*self.rec().connection).client_ip) }
    }

    pub(crate) fn useragent_port(&self) -> u16 {
        if self.rec().useragent_addr.is_null() {
            return 0;
        }
        // SAFETY: a live sockaddr owned by the connection or request.
        unsafe { (*self.rec().useragent_addr).port }
    }

    /// The local address and port the connection came in on.
    pub(crate) fn local_ip_port(&self) -> (&[u8], u16) {
        // SAFETY: the connection and its local address outlive the request.
        unsafe {
            let c = &*self.rec().connection;
            let port = if c.local_addr.is_null() {
                0
            } else {
                (*c.local_addr).port
            };
            (cstr_bytes(c.local_ip), port)
        }
    }

    pub(crate) fn server_admin(&self) -> &[u8] {
        // SAFETY: the server_rec outlives the request.
        unsafe { cstr_bytes((*self.rec().server).server_admin) }
    }

    pub(crate) fn auth_type(&self) -> Option<&[u8]> {
        // SAFETY: NULL or a pool string.
        unsafe { opt_cstr_bytes(self.rec().ap_auth_type) }
    }

    /// The scheme Apache reports for the request ("http"/"https").
    pub(crate) fn scheme(&self) -> &[u8] {
        // SAFETY: ap_run_http_scheme returns a static or pool string.
        unsafe { cstr_bytes(ffi::ap_run_http_scheme(self.raw())) }
    }
}

/// The request as the embedded backend holds it while the application
/// runs. It belongs to the handler that made it, which drops it (closing
/// the request's `Channel`) before returning to Apache, as a `Brigade` is;
/// Python objects that outlive the request reach the closed channel, never
/// this handle.
pub(crate) struct RequestHandle(*mut ffi::request_rec);

// SAFETY: the pointer is only dereferenced by the request's own thread while
// the handler runs; the handle is Send only so that thread can release the
// GIL (py.detach) around Apache calls, which run on the same thread.
unsafe impl Send for RequestHandle {}
// SAFETY: as above; the handle itself is an immutable address.
unsafe impl Sync for RequestHandle {}

impl RequestHandle {
    pub(crate) fn new(r: &Request) -> RequestHandle {
        RequestHandle(r.raw())
    }

    pub(crate) fn get(&self) -> &Request {
        // SAFETY: the handle is dropped by the handler that made it before
        // the request ends (see the type's documentation), so the request
        // is live whenever the handle exists.
        unsafe { Request::from_raw(self.0) }
    }
}
