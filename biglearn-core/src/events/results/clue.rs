//! `clue_data` (api.md §2.6, §5.9): decoding a pushed one, rendering a
//! stored one, and the not-real CLUE a read answers when none is stored.

use serde_json::{json, Value};

use crate::events::decode::{boolean, unit_number, uuid, Obj, UnknownKeys};
use crate::events::path::{At, ValidationErrors};
use crate::ids::EcosystemId;
use crate::scheduler::ClueData;

/// The keys of a `clue_data` object; api.md §2.6 allows no others.
const CLUE_DATA_KEYS: [&str; 5] = [
    "minimum",
    "most_likely",
    "maximum",
    "is_real",
    "ecosystem_uuid",
];

/// The CLUE a read answers while no CLUE is stored for the request (api.md
/// §5.9): the scheduler's not-real CLUE ([`ClueData::NOT_REAL`], the whole
/// interval, centred) naming the ecosystem of the requested book container;
/// `None` when no create_ecosystem registered that container
/// (`book_container_unknown`, api.md §5.9).
pub fn not_real_clue(ecosystem_uuid: Option<EcosystemId>) -> ClueData {
    ClueData {
        ecosystem_uuid,
        ..ClueData::NOT_REAL
    }
}

/// The `clue_data` object of [`not_real_clue`], with its bounds written as
/// the recorded Biglearn answers write them: `0`, `0.5`, `1` (integers where
/// whole; api.md §5.9). `ecosystem_uuid` is left out when `None`.
///
/// ```
/// use biglearn_core::events::not_real_clue_json;
/// assert_eq!(
///     not_real_clue_json(None).to_string(),
///     r#"{"minimum":0,"most_likely":0.5,"maximum":1,"is_real":false}"#
/// );
/// ```
pub fn not_real_clue_json(ecosystem_uuid: Option<EcosystemId>) -> Value {
    let clue = not_real_clue(ecosystem_uuid);
    render(&clue, integer_where_whole)
}

/// A stored CLUE as its `clue_data` object: the numbers as stored (floats),
/// `ecosystem_uuid` only when known.
pub fn clue_data_json(clue: &ClueData) -> Value {
    render(clue, |n| json!(n))
}

fn render(clue: &ClueData, number: impl Fn(f64) -> Value) -> Value {
    let mut value = json!({
        "minimum": number(clue.minimum),
        "most_likely": number(clue.most_likely),
        "maximum": number(clue.maximum),
        "is_real": clue.is_real,
    });
    if let Some(ecosystem) = clue.ecosystem_uuid {
        value["ecosystem_uuid"] = json!(ecosystem.to_string());
    }
    value
}

/// `0` and `1` rather than `0.0` and `1.0`; other numbers unchanged.
fn integer_where_whole(n: f64) -> Value {
    if n == 0.0 {
        json!(0)
    } else if n == 1.0 {
        json!(1)
    } else {
        json!(n)
    }
}

/// A pushed `clue_data`: `minimum`, `most_likely` and `maximum` in [0, 1],
/// `is_real`, an optional `ecosystem_uuid`; any other key is an error.
pub(crate) fn clue_data(
    value: &Value,
    path: &At<'_>,
    errs: &mut ValidationErrors,
) -> Option<ClueData> {
    let o = Obj::new(value, path, errs)?;
    let [min_key, likely_key, max_key, real_key, ecosystem_key] = CLUE_DATA_KEYS;
    let minimum = o.required(errs, min_key, unit_number);
    let most_likely = o.required(errs, likely_key, unit_number);
    let maximum = o.required(errs, max_key, unit_number);
    let is_real = o.required(errs, real_key, boolean);
    let ecosystem = o.optional(errs, ecosystem_key, uuid::<EcosystemId>);
    o.rest(errs, &CLUE_DATA_KEYS, UnknownKeys::Reject);
    Some(ClueData {
        minimum: minimum?,
        most_likely: most_likely?,
        maximum: maximum?,
        is_real: is_real?,
        ecosystem_uuid: ecosystem?.into_option(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::path::JsonPath;

    fn decode(value: &Value) -> Result<ClueData, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let decoded = clue_data(value, &At::Root, &mut errs);
        crate::events::decode::finish(decoded, errs)
    }

    #[test]
    fn the_not_real_clue_is_the_whole_interval_centred() {
        let whole = |c: ClueData| (c.minimum, c.most_likely, c.maximum, c.is_real);
        assert_eq!(whole(not_real_clue(None)), (0.0, 0.5, 1.0, false));
        assert_eq!(not_real_clue(None).ecosystem_uuid, None);
        let ecosystem = EcosystemId::from_uuid(uuid::Uuid::from_u128(7));
        // The scheduler's not-real CLUE in that ecosystem.
        assert_eq!(
            not_real_clue(Some(ecosystem)),
            ClueData::not_real(ecosystem)
        );
        assert_eq!(
            ClueData::not_real(ecosystem).ecosystem_uuid,
            Some(ecosystem)
        );
    }

    #[test]
    fn the_not_real_clue_is_written_like_the_recorded_answers() {
        assert_eq!(
            not_real_clue_json(None),
            json!({"minimum": 0, "most_likely": 0.5, "maximum": 1, "is_real": false})
        );
        assert_eq!(
            not_real_clue_json(None).to_string(),
            r#"{"minimum":0,"most_likely":0.5,"maximum":1,"is_real":false}"#
        );
        let ecosystem = EcosystemId::from_uuid(uuid::Uuid::from_u128(0xabc));
        assert_eq!(
            not_real_clue_json(Some(ecosystem)).to_string(),
            r#"{"minimum":0,"most_likely":0.5,"maximum":1,"is_real":false,"ecosystem_uuid":"00000000-0000-0000-0000-000000000abc"}"#
        );
        // And it reads back as the typed value.
        assert_eq!(
            decode(&not_real_clue_json(Some(ecosystem))),
            Ok(not_real_clue(Some(ecosystem)))
        );
    }

    #[test]
    fn stored_clues_keep_their_numbers_as_floats() {
        let clue = ClueData {
            minimum: 0.0,
            most_likely: 0.25,
            maximum: 1.0,
            is_real: true,
            ecosystem_uuid: None,
        };
        assert_eq!(
            clue_data_json(&clue).to_string(),
            r#"{"minimum":0.0,"most_likely":0.25,"maximum":1.0,"is_real":true}"#
        );
        assert_eq!(decode(&clue_data_json(&clue)), Ok(clue));
    }

    #[test]
    fn clue_data_errors_name_their_paths() {
        let errors = decode(&json!({"minimum": 2, "is_real": 1, "x": null}))
            .expect_err("invalid")
            .messages();
        assert_eq!(
            errors,
            [
                "minimum: expected a number from 0 to 1, got 2",
                "most_likely: missing required field",
                "maximum: missing required field",
                "is_real: expected a boolean, got 1",
                "x: unknown field (expected one of: minimum, most_likely, maximum, is_real, ecosystem_uuid)",
            ]
        );
        let errors = decode(&json!(null)).expect_err("invalid");
        assert_eq!(errors.errors()[0].path, JsonPath::root());
    }
}
