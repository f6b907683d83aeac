//! Supabase API keys (`sb_publishable_…`, `sb_secret_…`) compared in constant time.

use subtle::ConstantTimeEq;

/// The kind of a Supabase API key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// `sb_publishable_…`
    Publishable,
    /// `sb_secret_…`
    Secret,
}

impl KeyKind {
    /// The prefix every key of this kind carries.
    pub const fn prefix(self) -> &'static str {
        match self {
            KeyKind::Publishable => "sb_publishable_",
            KeyKind::Secret => "sb_secret_",
        }
    }
    /// The mode name (`"publishable"` / `"secret"`).
    pub const fn name(self) -> &'static str {
        match self {
            KeyKind::Publishable => "publishable",
            KeyKind::Secret => "secret",
        }
    }
}

/// Named keys of one kind.
#[derive(Clone, Default)]
pub struct NamedKeys(pub Vec<(String, String)>);

impl std::fmt::Debug for NamedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
}

impl NamedKeys {
    /// Finds the name of the key equal to `presented`, comparing against every
    /// key in constant time per key (no early exit across keys). `wanted`
    /// restricts to one name (`None` = any).
    pub fn find(&self, presented: &str, wanted: Option<&str>) -> Option<String> {
        let mut found: Option<String> = None;
        for (name, value) in &self.0 {
            let eq: bool = presented.as_bytes().ct_eq(value.as_bytes()).into();
            if eq && found.is_none() && wanted.is_none_or(|w| w == name) {
                found = Some(name.clone());
            }
        }
        found
    }
    /// Whether a key with this name exists.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}
