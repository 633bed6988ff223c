//! What `translate_name` found for a request (kept in its request config
//! for the handler).

/// A request mapped by a `WSGIScriptAlias`/`WSGIScriptAliasMatch`.
pub struct Mounted {
    /// Index of the matching alias in the vhost's ServerConfig.aliases.
    pub alias: usize,
    /// URI bytes the mount point consumed.
    pub consumed: usize,
    /// The script file (after `$n` substitution).
    pub script: String,
}
