//! Cell values as Excel has them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    Null,
    Div0,
    Value,
    Ref,
    Name,
    Num,
    NA,
    GettingData,
    Spill,
    Calc,
    Busy,
    Field,
    Blocked,
    Connect,
    Unknown,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 15] = [
        ErrorKind::Null,
        ErrorKind::Div0,
        ErrorKind::Value,
        ErrorKind::Ref,
        ErrorKind::Name,
        ErrorKind::Num,
        ErrorKind::NA,
        ErrorKind::GettingData,
        ErrorKind::Spill,
        ErrorKind::Calc,
        ErrorKind::Busy,
        ErrorKind::Field,
        ErrorKind::Blocked,
        ErrorKind::Connect,
        ErrorKind::Unknown,
    ];

    /// The text Excel shows and stores (`<v>#DIV/0!</v>`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Null => "#NULL!",
            ErrorKind::Div0 => "#DIV/0!",
            ErrorKind::Value => "#VALUE!",
            ErrorKind::Ref => "#REF!",
            ErrorKind::Name => "#NAME?",
            ErrorKind::Num => "#NUM!",
            ErrorKind::NA => "#N/A",
            ErrorKind::GettingData => "#GETTING_DATA",
            ErrorKind::Spill => "#SPILL!",
            ErrorKind::Calc => "#CALC!",
            ErrorKind::Busy => "#BUSY!",
            ErrorKind::Field => "#FIELD!",
            ErrorKind::Blocked => "#BLOCKED!",
            ErrorKind::Connect => "#CONNECT!",
            ErrorKind::Unknown => "#UNKNOWN!",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorKind> {
        let s = s.trim();
        ErrorKind::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s))
    }
}

/// A cell's value: a constant, or a formula's (cached or computed) result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum Value {
    #[default]
    Empty,
    Number(f64),
    Text(String),
    Bool(bool),
    Error(ErrorKind),
}

impl Value {
    /// Graph's `valueTypes` entry.
    pub fn value_type(&self) -> &'static str {
        match self {
            Value::Empty => "Empty",
            Value::Number(_) => "Double",
            Value::Text(_) => "String",
            Value::Bool(_) => "Boolean",
            Value::Error(_) => "Error",
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Value::Empty)
    }

    /// Compares as the corpus oracle does: numbers to 1e-9 relative (1e-12 absolute),
    /// strings and booleans exactly, errors by kind.
    pub fn matches_excel(&self, excel: &Value) -> bool {
        match (self, excel) {
            (Value::Number(a), Value::Number(b)) => {
                a == b || (a - b).abs() <= 1e-12 || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
            }
            (Value::Empty, Value::Text(s)) | (Value::Text(s), Value::Empty) => s.is_empty(),
            (a, b) => a == b,
        }
    }
}
