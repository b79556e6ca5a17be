//! The part under `/workbook`: worksheets, ranges, names, tables and their rows and columns, the application.

use super::*;

pub(super) fn workbook_operation(
    m: &str,
    method: &str,
    item: ItemAddress,
    segs: &[Segment],
) -> Result<Operation, GraphError> {
    let first = segs.first();
    let op = match (m, segs.len()) {
        ("POST", 1) if first.is_some_and(|s| s.is("createSession")) => Some(Operation::CreateSession(item.clone())),
        ("POST", 1) if first.is_some_and(|s| s.is("refreshSession")) => Some(Operation::RefreshSession(item.clone())),
        ("POST", 1) if first.is_some_and(|s| s.is("closeSession")) => Some(Operation::CloseSession(item.clone())),
        ("GET", 1) if first.is_some_and(|s| s.is("sessionInfoResource")) => {
            let key = segs[0]
                .arg("key")
                .map(str::to_string)
                .ok_or_else(|| GraphError::bad_request("sessionInfoResource needs key."))?;
            Some(Operation::SessionInfo { item: item.clone(), key })
        }
        ("GET", 1) if first.is_some_and(|s| s.is("tableRowOperationResult")) => {
            // Without a key no operation matches: 404 from the handler.
            let key = segs[0].arg("key").map(str::to_string).unwrap_or_default();
            Some(Operation::TableRowOperationResult { item: item.clone(), key })
        }
        // Any name: the handler knows which functions there are (an unknown one is 400).
        ("POST", 2) if first.is_some_and(|s| s.is("functions") && s.args.is_none()) && segs[1].args.is_none() => {
            Some(Operation::FunctionCall { item: item.clone(), name: segs[1].name.to_string() })
        }
        ("GET", 2)
            if first.is_some_and(|s| s.is("operations")) && !segs[1].name.is_empty() && segs[1].name != "$count" =>
        {
            Some(Operation::OperationGet { item: item.clone(), id: segs[1].name.to_string() })
        }
        _ => workbook_resource(m, &item, segs)?,
    };
    match op {
        // A path documented as it is keeps its own page's name.
        Some(Operation::NotImplemented { .. }) if match_surface(method, segs).is_ok() => {}
        Some(op) => return Ok(op),
        None => {}
    }
    match match_surface(method, segs) {
        Ok(operation) => Ok(Operation::NotImplemented { item, operation: operation.to_string() }),
        // Not on a reference page, but a call the SDKs generate from Graph's OpenAPI
        // description (navigation properties, `$count`, …): not built, said so.
        Err(e) => match match_sdk(m, segs) {
            Some(operation) => Ok(Operation::NotImplemented { item, operation }),
            None => Err(e),
        },
    }
}

/// Worksheets, ranges, names, tables and the application: the operation, or `None` when the
/// path is none that workbookd serves (the caller then names the documented one).
pub(super) fn workbook_resource(
    m: &str,
    item: &ItemAddress,
    segs: &[Segment],
) -> Result<Option<Operation>, GraphError> {
    let Some(first) = segs.first() else { return Ok(None) };
    let item = || item.clone();
    let get = m == "GET";
    if first.is("application") && first.args.is_none() {
        return Ok(match (m, segs.len()) {
            ("GET", 1) => Some(Operation::ApplicationGet(item())),
            ("POST", 2) if segs[1].is("calculate") => Some(Operation::ApplicationCalculate(item())),
            _ => None,
        });
    }
    let (sheet, rest) = if first.is("worksheets") && first.args.is_none() {
        match segs.get(1) {
            None if get => return Ok(Some(Operation::WorksheetList(item()))),
            None if m == "POST" => return Ok(Some(Operation::WorksheetCreate(item()))),
            None => return Ok(None),
            // A worksheet may be named "count": only `count()` and `$count` count.
            Some(key) if segs.len() == 2 && count_of(key, false).is_some() => {
                return count_operation(m, item(), Collection::Worksheets, count_of(key, false) == Some(true))
            }
            Some(key) if key.args.is_some() => return Ok(None),
            Some(key) if m == "POST" && segs.len() == 2 && key.is("add") => {
                return Ok(Some(Operation::WorksheetAdd(item())))
            }
            Some(key) if m == "PATCH" && segs.len() == 2 => {
                return Ok(Some(Operation::WorksheetUpdate { item: item(), sheet: key.name.to_string() }))
            }
            Some(key) if m == "DELETE" && segs.len() == 2 => {
                return Ok(Some(Operation::WorksheetDelete { item: item(), sheet: key.name.to_string() }))
            }
            Some(key) => (Some(key.name.to_string()), &segs[2..]),
        }
    } else {
        (None, segs)
    };
    let Some(head) = rest.first() else {
        return Ok(match (get, sheet) {
            (true, Some(sheet)) => Some(Operation::WorksheetGet { item: item(), sheet }),
            _ => None,
        });
    };
    // A range entry point; the segments after it are navigation.
    let range = |base: RangeBase, steps: &[Segment]| range_operation(m, item(), base, steps);
    match (&sheet, head.name.to_ascii_lowercase().as_str()) {
        (Some(sheet), "range") => {
            let address = match &head.args {
                None => None,
                Some(_) => Some(
                    head.arg("address")
                        .map(str::to_string)
                        .ok_or_else(|| GraphError::bad_request("range() needs an address."))?,
                ),
            };
            range(RangeBase::Sheet { sheet: sheet.clone(), address }, &rest[1..])
        }
        (Some(sheet), "usedrange") => {
            let values_only = parse_bool("valuesOnly", head.arg("valuesOnly").map(str::to_string))?;
            range(RangeBase::UsedRange { sheet: sheet.clone(), values_only }, &rest[1..])
        }
        (Some(sheet), "cell") => {
            let int = |key: &str| -> Result<i64, GraphError> {
                let v = head.arg(key).ok_or_else(|| GraphError::invalid_argument(format!("cell() needs {key}.")))?;
                v.trim()
                    .parse()
                    .map_err(|_| GraphError::invalid_argument(format!("{key} must be a whole number, not '{v}'.")))
            };
            range(RangeBase::Cell { sheet: sheet.clone(), row: int("row")?, col: int("column")? }, &rest[1..])
        }
        (_, "names") if head.args.is_none() => match rest.get(1) {
            None => Ok(get.then(|| Operation::NameList { item: item(), sheet: sheet.clone() })),
            Some(c) if rest.len() == 2 && count_of(c, false).is_some() => {
                count_operation(m, item(), Collection::Names { sheet: sheet.clone() }, count_of(c, false) == Some(true))
            }
            Some(add) if m == "POST" && rest.len() == 2 && (add.is("add") || add.is("addFormulaLocal")) => {
                Ok(Some(if add.is("addFormulaLocal") {
                    Operation::NameAddFormulaLocal { item: item(), sheet: sheet.clone() }
                } else {
                    Operation::NameAdd { item: item(), sheet: sheet.clone() }
                }))
            }
            Some(name) if name.args.is_none() => {
                let name = name.name.to_string();
                match rest.get(2) {
                    None if m == "PATCH" => {
                        Ok(Some(Operation::NameUpdate { item: item(), sheet: sheet.clone(), name }))
                    }
                    None => Ok(get.then(|| Operation::NameGet { item: item(), sheet: sheet.clone(), name })),
                    Some(r) if r.is("range") && r.args.is_none() => {
                        range(RangeBase::Name { sheet: sheet.clone(), name }, &rest[3..])
                    }
                    Some(_) => Ok(None),
                }
            }
            Some(_) => Ok(None),
        },
        (_, "tables") if head.args.is_none() => {
            let Some(table) = rest.get(1) else {
                return Ok(get.then(|| Operation::TableList { item: item(), sheet: sheet.clone() }));
            };
            if rest.len() == 2 && count_of(table, false).is_some() {
                let text = count_of(table, false) == Some(true);
                return count_operation(m, item(), Collection::Tables { sheet: sheet.clone() }, text);
            }
            // `tables/itemAt(index=n)`: the key the handlers read back as a position.
            let (table, after) = match member(&rest[1..])? {
                Some((Member::At(Some(index)), after)) => (navigate::item_at_key(index), after),
                Some((Member::Key(k), after)) => (k.name.to_string(), after),
                _ => return Ok(None),
            };
            let is_add = |s: &Segment| s.is("add") && s.args.is_none();
            if m == "POST" {
                // `worksheets/{w}/tables/add` (201, as worksheet-post-tables documents it; the
                // page's example URL has a stray `/{id}` before `add`, accepted too).
                match &rest[1..] {
                    [a] if is_add(a) => return Ok(Some(Operation::TableAdd { item: item(), sheet: sheet.clone() })),
                    [_, a] if is_add(a) && sheet.is_some() => {
                        return Ok(Some(Operation::TableAdd { item: item(), sheet: sheet.clone() }))
                    }
                    _ => {}
                }
            }
            table_operation(m, item(), sheet, table, after)
        }
        _ => Ok(None),
    }
}

pub(super) fn table_part(s: &Segment) -> Option<TablePart> {
    if s.args.is_some() {
        return None;
    }
    [
        ("range", TablePart::Range),
        ("dataBodyRange", TablePart::DataBody),
        ("headerRowRange", TablePart::HeaderRow),
        ("totalRowRange", TablePart::TotalRow),
    ]
    .into_iter()
    .find(|(name, _)| s.is(name))
    .map(|(_, part)| part)
}

/// `itemAt(index=n)` (GET) or `itemAt` (POST, index in the body); `$/itemAt(index=n)` too.
pub(super) fn item_at(m: &str, segs: &[Segment]) -> Result<Option<Option<i64>>, GraphError> {
    match member(segs)? {
        Some((Member::At(index), [])) if matches!(m, "GET" | "POST") => Ok(Some(index)),
        _ => Ok(None),
    }
}

/// A collection member as the URL names it.
pub(super) enum Member<'s> {
    /// `itemAt(index=n)`, or `itemAt` with the index in the body (`None`).
    At(Option<i64>),
    Key(&'s Segment<'s>),
}

/// The member the first segments name (`{key}`, `itemAt(index=n)`, `$/itemAt(index=n)`) and
/// the segments after it; `None` for a segment with other arguments.
pub(super) fn member<'s>(segs: &'s [Segment<'s>]) -> Result<Option<(Member<'s>, &'s [Segment<'s>])>, GraphError> {
    let segs = match segs {
        [dollar, rest @ ..] if dollar.name == "$" && dollar.args.is_none() && !rest.is_empty() => rest,
        _ => segs,
    };
    let Some((first, after)) = segs.split_first() else { return Ok(None) };
    if first.is("itemAt") {
        return match first.arg("index") {
            Some(v) => v
                .trim()
                .parse()
                .map(|i| Some((Member::At(Some(i)), after)))
                .map_err(|_| GraphError::invalid_argument(format!("index must be a whole number, not '{v}'."))),
            None if first.args.is_none() => Ok(Some((Member::At(None), after))),
            None => Ok(None),
        };
    }
    Ok(first.args.is_none().then_some((Member::Key(first), after)))
}

/// `$count` (the number as text) or `count()` (`{"value": n}`); a bare `count` too where no
/// member can have that key.
pub(super) fn count_of(s: &Segment, bare: bool) -> Option<bool> {
    if s.args.is_some() {
        return None;
    }
    if s.name == "$count" {
        return Some(true);
    }
    (s.is("count") && (s.call || bare)).then_some(false)
}

pub(super) fn count_operation(
    m: &str,
    item: ItemAddress,
    collection: Collection,
    text: bool,
) -> Result<Option<Operation>, GraphError> {
    match m {
        "GET" => Ok(Some(Operation::CollectionCount { item, collection, text })),
        _ => Err(GraphError::method_not_allowed(m, "count")),
    }
}

/// Graph's answer to table-row paths it does not route although its reference pages show them
/// (`PATCH rows/{index}`, `rows/{index}/range`): see docs/graph-compatibility.md.
pub(super) fn row_by_index_refused(path: &str) -> GraphError {
    GraphError::api_not_found(format!(
        "Table rows are not addressed as rows/{path} for this call on Graph; use rows/itemAt(index={path})."
    ))
}

pub(super) fn table_operation(
    m: &str,
    item: ItemAddress,
    sheet: Option<String>,
    table: String,
    segs: &[Segment],
) -> Result<Option<Operation>, GraphError> {
    let get = m == "GET";
    let Some(head) = segs.first() else {
        return Ok(match m {
            "GET" => Some(Operation::TableGet { item, sheet, table }),
            "DELETE" => Some(Operation::TableDelete { item, sheet, table }),
            "PATCH" => Some(Operation::TableUpdate { item, sheet, table }),
            _ => None,
        });
    };
    if m == "POST" && segs.len() == 1 && head.is("convertToRange") && head.args.is_none() {
        return Ok(Some(Operation::TableConvertToRange { item, sheet, table }));
    }
    if let Some(part) = table_part(head) {
        return range_operation(m, item, RangeBase::Table { sheet, table, part }, &segs[1..]);
    }
    let rows = head.is("rows") && head.args.is_none();
    let columns = head.is("columns") && head.args.is_none();
    if !rows && !columns {
        return Ok(None);
    }
    let rest = &segs[1..];
    match rest {
        [] if m == "POST" && rows => return Ok(Some(Operation::TableRowCreate { item, sheet, table })),
        [] if m == "POST" => return Ok(Some(Operation::TableColumnCreate { item, sheet, table })),
        [] => {
            return Ok(get.then_some(if rows {
                Operation::TableRowList { item, sheet, table }
            } else {
                Operation::TableColumnList { item, sheet, table }
            }))
        }
        [s] if m == "POST" && s.is("add") && s.args.is_none() => {
            return Ok(Some(if rows {
                Operation::TableRowAdd { item, sheet, table }
            } else {
                Operation::TableColumnAdd { item, sheet, table }
            }))
        }
        // Rows are keyed by index, and a GET of `columns/count` is the function, not a column
        // named so (another method on it is the column's).
        [c] if count_of(c, true).is_some() && (rows || m == "GET") => {
            let collection =
                if rows { Collection::TableRows { sheet, table } } else { Collection::TableColumns { sheet, table } };
            return count_operation(m, item, collection, count_of(c, true) == Some(true));
        }
        _ => {}
    }
    let Some((key, after)) = member(rest)? else { return Ok(None) };
    let is_delete_action = |s: &[Segment]| matches!(s, [d] if m == "POST" && d.is("delete") && d.args.is_none());
    if rows {
        let index = match key {
            Member::At(index) => {
                return Ok(match (m, after, index) {
                    ("GET" | "POST", [], index) => {
                        Some(Operation::TableRowGet { item, sheet, table, row: MemberKey::At(index) })
                    }
                    ("PATCH", [], Some(index)) => Some(Operation::TableRowUpdate { item, sheet, table, index }),
                    ("DELETE", [], Some(index)) => Some(Operation::TableRowDelete { item, sheet, table, index }),
                    (_, d, Some(index)) if is_delete_action(d) => {
                        Some(Operation::TableRowDelete { item, sheet, table, index })
                    }
                    (_, [r, nav @ ..], Some(index)) if r.is("range") && r.args.is_none() => {
                        return range_operation(m, item, RangeBase::TableRow { sheet, table, index }, nav)
                    }
                    // `rows/itemAt` with the index in a body is a POST (or GET) only.
                    ("PATCH" | "DELETE", [], None) => return Err(GraphError::method_not_allowed(m, "rows/itemAt")),
                    _ => None,
                });
            }
            Member::Key(k) => k,
        };
        let key = index.name.as_ref();
        // Rows are addressed by their 0-based index; other words (`add`) are other operations.
        let Ok(index) = key.trim().parse::<i64>() else {
            // A row's read, update, delete or range with a key that is no index: a bad key, not
            // an unbuilt operation; an action's name with the wrong method is 405.
            let row_call = match after.first() {
                None => m == "PATCH" || m == "DELETE" || m == "GET",
                Some(r) => r.is("range") && after.len() == 1,
            };
            let action = ["add", "count"].iter().any(|a| key.eq_ignore_ascii_case(a));
            if row_call && action && after.is_empty() {
                return Err(GraphError::method_not_allowed(m, &format!("rows/{key}")));
            }
            // (`{index}` is the reference pages' placeholder, resolved to its operation's name.)
            if row_call && !key.starts_with('{') {
                return Err(GraphError::invalid_argument(format!(
                    "Table rows are addressed by their 0-based index; '{key}' is not one."
                )));
            }
            return Ok(None);
        };
        return match after {
            [] if m == "PATCH" => Err(row_by_index_refused(key)),
            [] if m == "DELETE" => Ok(Some(Operation::TableRowDelete { item, sheet, table, index })),
            [] => Ok(get.then(|| Operation::TableRowGet { item, sheet, table, row: MemberKey::Key(key.to_string()) })),
            d if is_delete_action(d) => Ok(Some(Operation::TableRowDelete { item, sheet, table, index })),
            [r, ..] if r.is("range") && r.args.is_none() => Err(row_by_index_refused(key)),
            _ => Ok(None),
        };
    }
    // Columns: by id or name, or by position (`itemAt`, whose key the handlers read back).
    let column = match key {
        Member::At(index) => match (m, after, index) {
            ("GET" | "POST", [], index) => {
                return Ok(Some(Operation::TableColumnGet { item, sheet, table, column: MemberKey::At(index) }))
            }
            (_, _, Some(index)) => navigate::item_at_key(index),
            (_, _, None) => return Ok(None),
        },
        Member::Key(k) => k.name.to_string(),
    };
    match after {
        [] => Ok(match m {
            "GET" => Some(Operation::TableColumnGet { item, sheet, table, column: MemberKey::Key(column) }),
            "PATCH" => Some(Operation::TableColumnUpdate { item, sheet, table, column }),
            "DELETE" => Some(Operation::TableColumnDelete { item, sheet, table, column }),
            _ => None,
        }),
        d if is_delete_action(d) => Ok(Some(Operation::TableColumnDelete { item, sheet, table, column })),
        [part, nav @ ..] => match table_part(part) {
            Some(part) => range_operation(m, item, RangeBase::TableColumn { sheet, table, column, part }, nav),
            None => Ok(None),
        },
    }
}

/// A range entry point followed by navigation segments: a read (GET, or POST for the steps the
/// docs show as POST) or an update (PATCH). `None` when a segment is not navigation (`clear`,
/// `format`, …: other operations).
pub(super) fn range_operation(
    m: &str,
    item: ItemAddress,
    base: RangeBase,
    segs: &[Segment],
) -> Result<Option<Operation>, GraphError> {
    let mut steps = Vec::with_capacity(segs.len());
    for (i, s) in segs.iter().enumerate() {
        let arg = |key: &str| s.arg(key).map(str::to_string);
        match RangeStep::parse(&s.name, &arg)? {
            Some(step) => steps.push(step),
            None if m == "POST" && i + 1 == segs.len() && s.is("clear") && s.args.is_none() => {
                return Ok(Some(Operation::RangeClear { item, range: RangeRef { base, steps } }));
            }
            None if m == "POST" && i + 1 == segs.len() && (s.is("merge") || s.is("unmerge")) && s.args.is_none() => {
                let range = RangeRef { base, steps };
                return Ok(Some(if s.is("merge") {
                    Operation::RangeMerge { item, range }
                } else {
                    Operation::RangeUnmerge { item, range }
                }));
            }
            None if m == "POST" && i + 1 == segs.len() && (s.is("insert") || s.is("delete")) && s.args.is_none() => {
                let range = RangeRef { base, steps };
                return Ok(Some(if s.is("insert") {
                    Operation::RangeInsert { item, range }
                } else {
                    Operation::RangeDelete { item, range }
                }));
            }
            None if m == "GET" && s.is("visibleView") && s.args.is_none() => {
                let part = match &segs[i + 1..] {
                    [] => ViewPart::Whole,
                    [r] if r.is("rows") && r.args.is_none() => ViewPart::Rows,
                    [r] if r.is("range") && r.args.is_none() => ViewPart::Range,
                    rest => match item_at("GET", rest)? {
                        Some(index) => ViewPart::ItemAt(index.unwrap_or(0)),
                        None => return Ok(None),
                    },
                };
                return Ok(Some(Operation::RangeView { item, range: RangeRef { base, steps }, part }));
            }
            None => {
                // An operation on the range (`insert`, `format/font`, …): the docs list each under
                // `names/{}/range/…`, and any range entry point takes it alike.
                let mut as_documented: Vec<Segment> = ["names", "{}", "range"]
                    .into_iter()
                    .map(|n| Segment { name: Cow::Borrowed(n), args: None, call: false })
                    .collect();
                as_documented.extend(segs[i..].iter().cloned());
                // Not documented that way either: the caller matches the path as it came.
                let Ok(operation) = match_surface(m, &as_documented) else { return Ok(None) };
                return Ok(Some(Operation::NotImplemented { item, operation: operation.to_string() }));
            }
        }
    }
    let range = RangeRef { base, steps };
    Ok(match m {
        "GET" => Some(Operation::RangeGet { item, range }),
        "POST" if !range.steps.is_empty() => Some(Operation::RangeGet { item, range }),
        "PATCH" => Some(Operation::RangeUpdate { item, range }),
        _ => None,
    })
}
