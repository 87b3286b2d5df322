//! One field of a partial update, as the contract's modify endpoints send them: absent (leave it), `null`
//! (clear it) or a value (set it).

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_set(&self) -> bool {
        matches!(self, Patch::Set(_))
    }

    pub fn is_clear(&self) -> bool {
        matches!(self, Patch::Clear)
    }

    /// Applies the patch to an optional field.
    pub fn apply(self, current: &mut Option<T>) {
        match self {
            Patch::Keep => {}
            Patch::Clear => *current = None,
            Patch::Set(v) => *current = Some(v),
        }
    }

    /// The new value if one was sent; `null` and absence both leave a required field alone.
    pub fn into_value(self) -> Option<T> {
        match self {
            Patch::Set(v) => Some(v),
            Patch::Keep | Patch::Clear => None,
        }
    }
}

/// Written as its value, or `null` when it sets nothing (documentation tools show defaults this way).
impl<T: serde::Serialize> serde::Serialize for Patch<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Set(v) => v.serialize(s),
            Patch::Keep | Patch::Clear => s.serialize_none(),
        }
    }
}
