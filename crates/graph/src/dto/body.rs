//! A JSON request body, read once: property names are matched without regard to case here and
//! nowhere else (Graph documents camelCase; some clients send PascalCase), `@odata…`
//! annotations are skipped, and `null` means "not given", as Graph reads it.

use serde::de::{self, DeserializeOwned, Visitor};
use serde_json::{Map, Value};

use crate::error::{Code, GraphError};

/// A request body Graph defines: a serde struct whose field names are Graph's (camelCase).
pub trait Request: DeserializeOwned {
    /// What the body describes, as messages name it ("range", "table row").
    const ENTITY: &'static str;
    /// Properties a client may send and that change nothing (read-only ones it sends back).
    const IGNORED: &'static [&'static str] = &[];
    /// Whether other properties are let through unread (an action's body, where Graph is
    /// lenient), rather than refused (an entity's PATCH or add, where a typo would be lost).
    const OPEN: bool = false;
}

/// A parsed JSON object body.
#[derive(Debug, Default)]
pub struct Body(Map<String, Value>);

impl Body {
    /// An empty body, or JSON (`{}` included) whatever the Content-Type says.
    pub fn parse(bytes: &[u8]) -> Result<Body, GraphError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body::default());
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => Ok(Body(m)),
            Ok(_) => Err(GraphError::new(
                Code::BadRequest,
                Some("invalidArgument"),
                "The request body must be a JSON object.",
            )),
            Err(e) => Err(GraphError::new(
                Code::BadRequest,
                Some("badRequestUncategorized"),
                format!("The request body is not valid JSON: {e}."),
            )),
        }
    }

    /// A property, in any case; `None` when absent or null.
    pub fn get(&self, key: &str) -> Option<&Value> {
        property(&self.0, key)
    }

    /// The property names sent, annotations left out.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str).filter(|k| !k.starts_with('@'))
    }

    /// The body as the request type `T`: every property must be one of `T`'s (or ignored by it).
    pub fn read<T: Request>(&self) -> Result<T, GraphError> {
        let fields = field_names::<T>();
        let mut canonical = Map::new();
        for (key, value) in &self.0 {
            if key.starts_with('@') || value.is_null() || T::IGNORED.iter().any(|i| i.eq_ignore_ascii_case(key)) {
                continue;
            }
            match fields.iter().find(|f| f.eq_ignore_ascii_case(key)) {
                Some(field) => {
                    canonical.insert((*field).to_string(), value.clone());
                }
                None if T::OPEN => {}
                None => {
                    return Err(GraphError::invalid_argument(format!(
                        "The property '{key}' cannot be set on a {}.",
                        T::ENTITY
                    )))
                }
            }
        }
        T::deserialize(Value::Object(canonical.clone())).map_err(|e| {
            // serde names no property in its message: find the one that fails on its own.
            let culprit = canonical.iter().find_map(|(k, v)| {
                let alone = Map::from_iter([(k.clone(), v.clone())]);
                match T::deserialize(Value::Object(alone)) {
                    Err(e) if !e.to_string().starts_with("missing field") => Some(format!("{k}: {e}")),
                    _ => None,
                }
            });
            GraphError::invalid_argument(format!("{}.", culprit.unwrap_or_else(|| format!("{}: {e}", T::ENTITY))))
        })
    }
}

/// A property of a JSON object (a body, or an object inside one), in any case; `None` when
/// absent or null.
pub fn property<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v).filter(|v| !v.is_null())
}

/// The serialized field names of a serde struct, read from its `Deserialize` impl (which hands
/// them to `deserialize_struct`), so a request type lists its properties once, in its own fields.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    #[derive(Debug)]
    struct Found(Option<&'static [&'static str]>);
    impl std::fmt::Display for Found {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("not a struct")
        }
    }
    impl std::error::Error for Found {}
    impl de::Error for Found {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Found(None)
        }
    }
    struct Probe;
    impl<'de> de::Deserializer<'de> for Probe {
        type Error = Found;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
            Err(Found(None))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Found> {
            Err(Found(Some(fields)))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    match T::deserialize(Probe) {
        Err(Found(Some(fields))) => fields,
        _ => &[],
    }
}

/// An enum Graph sends as a string, matched without regard to case as Excel does.
macro_rules! graph_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [&'static str] = &[$(stringify!($variant)),+];
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $(if text.eq_ignore_ascii_case(stringify!($variant)) {
                    return Ok(Self::$variant);
                })+
                Err(serde::de::Error::custom(format!("'{text}' is not one of {}", Self::ALL.join(", "))))
            }
        }
    };
}
pub(crate) use graph_enum;

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        persist_changes: Option<bool>,
        #[serde(rename = "formulasR1C1")]
        formulas_r1c1: Option<Value>,
    }
    impl Request for Probe {
        const ENTITY: &'static str = "probe";
        const IGNORED: &'static [&'static str] = &["id"];
    }

    fn read(text: &str) -> Result<Probe, GraphError> {
        Body::parse(text.as_bytes())?.read()
    }

    #[test]
    fn names_are_matched_in_any_case_and_nulls_are_absent() {
        let p = read(r#"{"PersistChanges": false, "FORMULASr1c1": [["=R1C1"]], "@odata.type": "x", "id": 3}"#).unwrap();
        assert_eq!(p.persist_changes, Some(false));
        assert!(p.formulas_r1c1.is_some());
        assert_eq!(read(r#"{"persistChanges": null}"#).unwrap().persist_changes, None);
        assert_eq!(read("  ").unwrap().persist_changes, None);
    }

    #[test]
    fn unknown_and_mistyped_properties_are_named_in_a_400() {
        let e = read(r#"{"persistChange": true}"#).unwrap_err();
        assert_eq!((e.status(), e.message.contains("'persistChange'")), (400, true), "{e:?}");
        let e = read(r#"{"formulasR1C1": 1, "persistChanges": "yes"}"#).unwrap_err();
        assert_eq!((e.status(), e.message.starts_with("persistChanges:")), (400, true), "{e:?}");
        assert_eq!(read("[1]").unwrap_err().status(), 400);
        assert_eq!(read("{").unwrap_err().status(), 400);
    }

    graph_enum!(Shift { Down, Right });

    #[test]
    fn enums_are_matched_in_any_case() {
        assert_eq!(serde_json::from_str::<Shift>(r#""rIGHT""#).unwrap(), Shift::Right);
        let e = serde_json::from_str::<Shift>(r#""Up""#).unwrap_err().to_string();
        assert!(e.contains("'Up' is not one of Down, Right"), "{e}");
    }
}
