//! Apache's regular expressions (PCRE via ap_regcomp), for
//! WSGIScriptAliasMatch, so patterns mean what they mean in mod_alias.

use super::ffi;
use std::collections::HashMap;
use std::ffi::CString;
use std::sync::{Arc, Mutex, OnceLock};

pub(crate) struct Regex(Box<ffi::ap_regex_t>);

// SAFETY: a compiled pattern is read-only after ap_regcomp; ap_regexec is
// thread-safe on it (it allocates its match data per call).
unsafe impl Send for Regex {}
// SAFETY: as above.
unsafe impl Sync for Regex {}

const MAX_GROUPS: usize = 10;

impl Regex {
    pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
        let c = CString::new(pattern).map_err(|_| "the pattern contains a NUL byte".to_string())?;
        // SAFETY: ap_regex_t is plain data that ap_regcomp fills in.
        let mut re: Box<ffi::ap_regex_t> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: compiles a valid C string into the boxed struct.
        let rc = unsafe { ffi::ap_regcomp(&mut *re, c.as_ptr(), 0) };
        if rc != 0 {
            return Err(format!("'{pattern}' is not a valid regular expression"));
        }
        Ok(Regex(re))
    }

    /// Byte ranges of the whole match and groups 1..9 in `subject`.
    pub(crate) fn captures(&self, subject: &[u8]) -> Option<Vec<Option<(usize, usize)>>> {
        let c = CString::new(subject).ok()?;
        let mut m = [ffi::ap_regmatch_t {
            rm_so: -1,
            rm_eo: -1,
        }; MAX_GROUPS];
        // SAFETY: matches a valid C string with room for MAX_GROUPS
        // matches; the pattern is compiled.
        let rc = unsafe { ffi::ap_regexec(&*self.0, c.as_ptr(), MAX_GROUPS, m.as_mut_ptr(), 0) };
        if rc != 0 {
            return None;
        }
        Some(
            m.iter()
                .map(|g| (g.rm_so >= 0).then_some((g.rm_so as usize, g.rm_eo as usize)))
                .collect(),
        )
    }
}

impl Drop for Regex {
    fn drop(&mut self) {
        // SAFETY: frees what ap_regcomp allocated, once.
        unsafe { ffi::ap_regfree(&mut *self.0) }
    }
}

/// Compiled patterns, per process, compiled on first use.
pub(crate) fn cached(pattern: &str) -> Option<Arc<Regex>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(re) = map.get(pattern) {
        return Some(re.clone());
    }
    let re = Arc::new(Regex::compile(pattern).ok()?);
    map.insert(pattern.to_string(), re.clone());
    Some(re)
}
