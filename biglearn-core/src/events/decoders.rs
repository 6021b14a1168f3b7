//! Declarative decoders: one field list gives an object's key list and its
//! validating `decode` function, so the two cannot drift apart.
//!
//! Every wire struct reads its keys in one order, pushes one error per bad
//! or missing key (A2: every problem, each with its path) and builds the
//! value only when all keys decoded. Written out by hand that is the same
//! twenty lines per struct; these macros write them once.
//!
//! Field names are the wire keys (the structs use the wire field names), and
//! each field names how it is read — `required`, `optional` (absent and null
//! kept apart) or `nullable` — and with which decoder of
//! [`super::decode`].

/// `KEYS` and `decode` for an event object: a whole request or one item of a
/// bulk request. The first key is the event's own uuid; its text is echoed
/// back exactly as sent (A9), so it is read with
/// [`super::decode::uuid_with_text`]. Unknown keys follow the caller's
/// [`super::decode::UnknownKeys`].
macro_rules! event_decoder {
    (
        $(#[$keys_doc:meta])*
        $ty:ident, echo $echo:ident: $echo_ty:ty,
        { $($field:ident: $mode:ident($decode:expr)),* $(,)? }
    ) => {
        impl $ty {
            $(#[$keys_doc])*
            pub const KEYS: &'static [&'static str] =
                &[stringify!($echo), $(stringify!($field)),*];

            pub(crate) fn decode(
                value: &serde_json::Value,
                path: &$crate::events::path::At<'_>,
                errs: &mut $crate::events::path::ValidationErrors,
                unknown: $crate::events::decode::UnknownKeys,
            ) -> Option<$crate::events::Echoed<Self>> {
                let object = $crate::events::decode::Obj::new(value, path, errs)?;
                let echo = object.required(
                    errs,
                    stringify!($echo),
                    $crate::events::decode::uuid_with_text::<$echo_ty>,
                );
                $(let $field = object.$mode(errs, stringify!($field), $decode);)*
                object.rest(errs, Self::KEYS, unknown);
                let ($echo, raw_uuid) = echo?;
                Some($crate::events::Echoed {
                    raw_uuid,
                    event: $ty { $echo, $($field: $field?),* },
                })
            }
        }
    };
}
pub(crate) use event_decoder;

/// `decode` for a nested object: its unknown keys are accepted and kept
/// verbatim in the struct's `extra` map (A2).
macro_rules! nested_decoder {
    (
        $ty:ident { $($field:ident: $mode:ident($decode:expr)),* $(,)? }
    ) => {
        impl $ty {
            /// The keys this object declares; any other key lands in `extra`.
            pub(crate) const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];

            pub(crate) fn decode(
                value: &serde_json::Value,
                path: &$crate::events::path::At<'_>,
                errs: &mut $crate::events::path::ValidationErrors,
            ) -> Option<Self> {
                let object = $crate::events::decode::Obj::new(value, path, errs)?;
                $(let $field = object.$mode(errs, stringify!($field), $decode);)*
                let extra = object.rest(
                    errs,
                    Self::KEYS,
                    $crate::events::decode::UnknownKeys::Accept,
                );
                Some($ty { $($field: $field?,)* extra })
            }
        }
    };
}
pub(crate) use nested_decoder;
