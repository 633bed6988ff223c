//! What `translate_name` found for a request (kept in its request config
//! for the handler).

/// A request mapped by a `WSGIScriptAlias`/`WSGIScriptAliasMatch`.
pub(crate) struct Mounted {
    /// Index of the matching alias in the vhost's ServerConfig.aliases.
    pub(crate) alias: usize,
    /// URI bytes the mount point consumed.
    pub(crate) consumed: usize,
    /// The script file (after `$n` substitution).
    pub(crate) script: String,
}
