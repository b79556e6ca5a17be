//! Live workbooks.
