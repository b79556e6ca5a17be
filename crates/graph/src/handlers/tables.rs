//! Tables, their columns and rows, and the counts of workbook collections.

use super::*;

/// PATCH of a table: `name` (formulas naming it follow), `style`, `highlightFirstColumn`,
/// `highlightLastColumn`, `showBandedRows`, `showBandedColumns`, `showHeaders`, `showTotals`,
/// `showFilterButton`.
pub(super) async fn table_update(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = request::<requests::TableUpdate>(&ctx)?;
    let current = {
        let (sheet, table) = (sheet.clone(), table.clone());
        lookup(&ctx, &address, move |wb| {
            Ok(navigate::find_table(wb, sheet.as_deref(), &table)?.map(|(_, t)| items::table_json(t)))
        })
        .await?
    };
    let update = book::edit::TableUpdate {
        name: body.name,
        style: body.style,
        first_column: body.highlight_first_column,
        last_column: body.highlight_last_column,
        row_stripes: body.show_banded_rows,
        column_stripes: body.show_banded_columns,
        show_headers: body.show_headers,
        show_totals: body.show_totals,
        show_filter_button: body.show_filter_button,
    };
    let display = current["name"].as_str().unwrap_or(&table).to_string();
    let after = update.name.clone().unwrap_or_else(|| display.clone());
    let edit = book::Edit::UpdateTable { table: display, update };
    let read_back = move |wb: &book::Workbook| {
        Ok(navigate::find_table(wb, sheet.as_deref(), &after)?.map(|(_, t)| items::table_json(t)))
    };
    let user = ctx.who.drive_owner();
    let json = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)??;
    Ok(entity(&ctx, "tables/$entity", json))
}

/// `DELETE tables/{t}` (200 with no body; its cells are cleared) and `convertToRange` (200 with
/// the range the table covered; formulas naming it now name its cells).
pub(super) async fn table_remove(
    ctx: Ctx,
    address: ItemAddress,
    sheet: Option<String>,
    table: String,
    keep_cells: bool,
) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let (name, sheet_name, area) = lookup(&ctx, &address, move |wb| {
        Ok(navigate::find_table(wb, sheet.as_deref(), &table)?
            .map(|(s, t)| (t.display_name.clone(), s.to_string(), t.area)))
    })
    .await?;
    let edit = book::Edit::RemoveTable { table: name, keep_cells };
    let max_read = ctx.app.config.max_read_cells;
    let read_back = move |wb: &book::Workbook| -> Result<Option<range::RangeRead>, BookError> {
        if keep_cells {
            range::RangeRead::read(wb, &sheet_name, area, max_read).map(Some)
        } else {
            Ok(None)
        }
    };
    let user = ctx.who.drive_owner();
    let read = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)?;
    match read {
        Some(read) => Ok(range_response(&ctx, &read)),
        None => Ok(StatusCode::OK.into_response()),
    }
}

/// `tables/add` (200) and `worksheets/{w}/tables/add` (201): a table over `address` (with its
/// sheet, or on the URL's worksheet; without either, the first visible worksheet), whose first
/// row names the columns when `hasHeaders` (the default: nothing moves); without headers a
/// header row is inserted above the data. Answers the table.
pub(super) async fn table_add(ctx: Ctx, address: ItemAddress, sheet: Option<String>) -> Answer {
    let created = sheet.is_some();
    let item = workbook_item(&ctx, &address).await?;
    let requests::TableAdd { address: text, has_headers } = request(&ctx)?;
    let has_headers = has_headers.unwrap_or(true);
    let (sheet_name, area) = lookup(&ctx, &address, move |wb| {
        let parsed = match book::SheetArea::parse(&text) {
            Ok(p) => p,
            Err(e) => return Ok(Err(GraphError::invalid_argument(format!("The address '{text}' is not valid: {e}.")))),
        };
        let on = match (&sheet, &parsed.sheet) {
            (Some(s), _) => range::find_worksheet(wb, s)?,
            (None, Some(s)) => range::find_worksheet(wb, s)?,
            (None, None) => match wb.model().sheets.iter().find(|s| {
                s.kind == book::model::SheetKind::Worksheet && s.visibility == book::model::Visibility::Visible
            }) {
                Some(s) => s.name.clone(),
                None => return Ok(Err(GraphError::invalid_argument("The workbook has no visible worksheet."))),
            },
        };
        Ok(range::parse_area(&on, Some(&text)).map(|area| (on, area)))
    })
    .await?;
    let edit = book::Edit::AddTable { sheet: sheet_name, area: area.to_a1(), has_headers };
    // The new table has the highest id.
    let read_back = |wb: &book::Workbook| -> Result<Value, BookError> {
        let newest = wb.model().sheets.iter().flat_map(|s| s.tables.iter()).max_by_key(|t| t.id);
        Ok(newest.map(items::table_json).unwrap_or(Value::Null))
    };
    let user = ctx.who.drive_owner();
    let json = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)?;
    let mut response = entity(&ctx, "tables/$entity", json);
    if created {
        *response.status_mut() = StatusCode::CREATED;
    }
    Ok(response)
}

/// A table column's `values` from a body: one value per row of the table (a 2-D array of one
/// column, header first), read as a range update of that shape would read them.
pub(super) fn column_values(
    values: Option<Value>,
    rows: u32,
    max_write: u64,
) -> Result<Option<Vec<Option<book::CellInput>>>, GraphError> {
    let Some(values) = values else {
        return Ok(None);
    };
    let block = book::Area::cells(0, 0, rows - 1, 0);
    let update = requests::RangeUpdate { values: Some(values), ..Default::default() };
    match range::patch_edit("-", &block, &update, max_write)? {
        Some(book::Edit::SetCells(set)) => {
            Ok(set.inputs.map(|rows| rows.into_iter().map(|mut r| r.pop().flatten()).collect()))
        }
        _ => Ok(None),
    }
}

/// The table a column call names: its display name, rows, whether it has a header row.
pub(super) async fn table_shape(
    ctx: &Ctx,
    address: &ItemAddress,
    sheet: &Option<String>,
    table: &str,
) -> Result<(String, u32, bool), GraphError> {
    let (sheet, table) = (sheet.clone(), table.to_string());
    lookup(ctx, address, move |wb| {
        Ok(navigate::find_table(wb, sheet.as_deref(), &table)?
            .map(|(_, t)| (t.display_name.clone(), t.area.rows() as u32, t.header_rows > 0)))
    })
    .await
}

/// `columns/add` (200) and `POST columns` (201): `index` (null: at the end), `name` and
/// `values` (one per row of the table, header first; `name` wins over a header value).
/// Answers the new column.
pub(super) async fn column_add(
    ctx: Ctx,
    address: ItemAddress,
    sheet: Option<String>,
    table: String,
    created: bool,
) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let requests::ColumnAdd { index, name, values } = request(&ctx)?;
    let (table_name, rows, headers) = table_shape(&ctx, &address, &sheet, &table).await?;
    let mut values = column_values(values, rows, ctx.app.config.max_write_cells)?;
    if let (Some(v), true, true) = (values.as_mut(), name.is_some(), headers) {
        v[0] = None;
    }
    let edit = book::Edit::AddTableColumn { table: table_name.clone(), index, name, values };
    let read_back = move |wb: &book::Workbook| {
        let at = match index {
            Some(i) => i64::from(i),
            None => match navigate::find_table(wb, sheet.as_deref(), &table_name)? {
                Ok((_, t)) => t.columns.len() as i64 - 1,
                Err(e) => return Ok(Err(e)),
            },
        };
        items::column_get(wb, sheet.as_deref(), &table_name, Err(at))
    };
    let user = ctx.who.drive_owner();
    let json = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)??;
    let mut response = entity(&ctx, "columns/$entity", json);
    if created {
        *response.status_mut() = StatusCode::CREATED;
    }
    Ok(response)
}

/// PATCH of a table column: its `values` (one per row, header first; a new header renames the
/// column, formulas naming it follow) and `name` (the header cell's text, winning over a header
/// value). Its `id` and `index` may be sent back as they are.
pub(super) async fn column_update(
    ctx: Ctx,
    address: ItemAddress,
    sheet: Option<String>,
    table: String,
    column: String,
) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = request::<requests::ColumnUpdate>(&ctx)?;
    let current = {
        let (sheet, table, column) = (sheet.clone(), table.clone(), column.clone());
        lookup(&ctx, &address, move |wb| items::column_get(wb, sheet.as_deref(), &table, Ok(&column))).await?
    };
    let (table_name, rows, headers) = table_shape(&ctx, &address, &sheet, &table).await?;
    // `2` and `"2"` are the same id.
    let same = |a: &Value, b: &Value| a.to_string().trim_matches('"') == b.to_string().trim_matches('"');
    for (key, given) in [("id", &body.id), ("index", &body.index)] {
        if given.as_ref().is_some_and(|v| !same(&current[key], v)) {
            return Err(GraphError::invalid_argument(format!("A column's {key} cannot be changed.")));
        }
    }
    let name = body.name;
    if name.is_some() && !headers {
        return Err(GraphError::invalid_argument(format!(
            "Table '{table_name}' shows no header row to hold a column name."
        )));
    }
    let mut values = column_values(body.values, rows, ctx.app.config.max_write_cells)?;
    if let Some(n) = &name {
        values.get_or_insert_with(|| vec![None; rows as usize])[0] = Some(book::CellInput::Text(n.clone()));
    }
    let index = current["index"].as_i64().unwrap_or_default();
    let on_sheet = sheet.clone();
    let read_back = move |wb: &book::Workbook| items::column_get(wb, sheet.as_deref(), &table_name, Err(index));
    let located = locate(
        &ctx,
        &item.id,
        RangeRef {
            base: RangeBase::TableColumn {
                sheet: on_sheet,
                table: table.clone(),
                column: current["name"].as_str().unwrap_or(&column).to_string(),
                part: navigate::TablePart::Range,
            },
            steps: vec![],
        },
    )
    .await?;
    let user = ctx.who.drive_owner();
    let result = match values {
        Some(v) => {
            let edit = book::Edit::SetCells(book::SetCells {
                sheet: located.sheet.clone(),
                row: located.area.first_row,
                col: located.area.first_col,
                rows,
                cols: 1,
                inputs: Some(v.into_iter().map(|x| vec![x]).collect()),
                number_formats: None,
            });
            ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await
        }
        None => ctx.app.host.read(user, &item.id, target(&ctx), read_back).await,
    };
    let json = result.map_err(workbook_error)??;
    Ok(entity(&ctx, "columns/$entity", json))
}

/// `DELETE columns/{c}`: the column goes, the columns after it move left; formulas naming it
/// get `#REF!`. 200 with no body.
pub(super) async fn column_delete(
    ctx: Ctx,
    address: ItemAddress,
    sheet: Option<String>,
    table: String,
    column: String,
) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let (table_name, column_name) = {
        let (sheet, table, column) = (sheet.clone(), table.clone(), column.clone());
        lookup(&ctx, &address, move |wb| {
            let json = match items::column_get(wb, sheet.as_deref(), &table, Ok(&column))? {
                Ok(j) => j,
                Err(e) => return Ok(Err(e)),
            };
            Ok(navigate::find_table(wb, sheet.as_deref(), &table)?
                .map(|(_, t)| (t.display_name.clone(), json["name"].as_str().unwrap_or_default().to_string())))
        })
        .await?
    };
    let edit = book::Edit::DeleteTableColumn { table: table_name, column: column_name };
    let user = ctx.who.drive_owner();
    ctx.app.host.write(user, &item.id, target(&ctx), edit, |_| Ok(())).await.map_err(workbook_error)?;
    Ok(StatusCode::OK.into_response())
}

pub(super) async fn table_list(ctx: Ctx, address: ItemAddress, sheet: Option<String>) -> Answer {
    let tables = lookup(&ctx, &address, move |wb| Ok(Ok(items::tables_json(wb, sheet.as_deref())?))).await?;
    Ok(collection(&ctx, "tables", tables))
}

pub(super) async fn table_get(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String) -> Answer {
    let found = lookup(&ctx, &address, move |wb| items::table_get(wb, sheet.as_deref(), &table)).await?;
    Ok(entity(&ctx, "tables/$entity", found))
}

pub(super) async fn column_list(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String) -> Answer {
    let columns = lookup(&ctx, &address, move |wb| items::columns_json(wb, sheet.as_deref(), &table)).await?;
    Ok(collection(&ctx, "columns", columns))
}

/// `count()` (`{"value": n}`, an `Edm.Int32`) or `$count` (the number as plain text).
pub(super) async fn collection_count(ctx: Ctx, address: ItemAddress, collection: Collection, text: bool) -> Answer {
    let count = lookup(&ctx, &address, move |wb| {
        let rows = matches!(collection, Collection::TableRows { .. });
        Ok(Ok(match collection {
            Collection::Worksheets => range::worksheets_json(wb).len(),
            Collection::Names { sheet } => items::names_json(wb, sheet.as_deref())?.len(),
            Collection::Tables { sheet } => items::tables_json(wb, sheet.as_deref())?.len(),
            Collection::TableRows { sheet, table } | Collection::TableColumns { sheet, table } => {
                match navigate::find_table(wb, sheet.as_deref(), &table)? {
                    Ok((_, t)) if rows => navigate::table_rows(t, navigate::TablePart::DataBody)
                        .map_or(0, |(first, last)| (last - first + 1) as usize),
                    Ok((_, t)) => t.columns.len(),
                    Err(e) => return Ok(Err(e)),
                }
            }
        }))
    })
    .await?;
    if text {
        let mut response = count.to_string().into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        return Ok(response);
    }
    let body = to_json(&responses::Count { odata_context: ctx.odata_context("Edm.Int32"), value: count });
    Ok(json_response(StatusCode::OK, body))
}

pub(super) async fn column_get(
    ctx: Ctx,
    address: ItemAddress,
    sheet: Option<String>,
    table: String,
    column: MemberKey,
) -> Answer {
    let key = match column {
        MemberKey::Key(k) => Ok(k),
        MemberKey::At(i) => Err(item_index(&ctx, i)?),
    };
    let found = lookup(&ctx, &address, move |wb| {
        items::column_get(wb, sheet.as_deref(), &table, key.as_ref().map(String::as_str).map_err(|i| *i))
    })
    .await?;
    Ok(entity(&ctx, "columns/$entity", found))
}

pub(super) async fn row_list(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String) -> Answer {
    let options = ctx.odata.clone();
    let (rows, total) = lookup(&ctx, &address, move |wb| {
        items::rows_json(wb, sheet.as_deref(), &table, |total| options.page_range(total))
    })
    .await?;
    Ok(paged_collection(&ctx, "rows", rows, total))
}

pub(super) async fn row_get(
    ctx: Ctx,
    address: ItemAddress,
    sheet: Option<String>,
    table: String,
    row: MemberKey,
) -> Answer {
    let index = match row {
        MemberKey::Key(k) => k
            .trim()
            .parse()
            .map_err(|_| GraphError::invalid_argument(format!("A row index must be a whole number, not '{k}'.")))?,
        MemberKey::At(i) => item_index(&ctx, i)?,
    };
    let found = lookup(&ctx, &address, move |wb| items::row_get(wb, sheet.as_deref(), &table, index)).await?;
    Ok(entity(&ctx, "rows/$entity", found))
}

/// PATCH of a table row: its `values` (one row as wide as the table; `null` leaves a cell).
/// The row's `index` may be sent back as it is.
pub(super) async fn row_update(
    ctx: Ctx,
    address: ItemAddress,
    sheet: Option<String>,
    table: String,
    index: i64,
) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = request::<requests::RowUpdate>(&ctx)?;
    if body.index.as_ref().is_some_and(|v| v.as_i64() != Some(index)) {
        return Err(GraphError::invalid_argument("A table row's index cannot be changed."));
    }
    let values = requests::RangeUpdate { values: body.values, ..Default::default() };
    let user = ctx.who.drive_owner();
    let range =
        RangeRef { base: RangeBase::TableRow { sheet: sheet.clone(), table: table.clone(), index }, steps: vec![] };
    let found = locate(&ctx, &item.id, range).await?;
    let read_back = move |wb: &book::Workbook| items::row_get(wb, sheet.as_deref(), &table, index);
    let result = match range::patch_edit(&found.sheet, &found.area, &values, ctx.app.config.max_write_cells)? {
        Some(edit) => ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await,
        None => ctx.app.host.read(user, &item.id, target(&ctx), read_back).await,
    };
    let row = result.map_err(workbook_error)??;
    Ok(entity(&ctx, "rows/$entity", row))
}

/// `rows/add` (200) and `POST rows` (201): `index` (null: at the end) and `values`, one array
/// per row, each as long as the table is wide; no values adds one blank row. Answers the first
/// added row.
pub(super) async fn row_add(
    ctx: Ctx,
    address: ItemAddress,
    sheet: Option<String>,
    table: String,
    created: bool,
) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let requests::RowAdd { index, values } = request(&ctx)?;
    let (table_name, width) = {
        let (sheet, table) = (sheet.clone(), table.clone());
        lookup(&ctx, &address, move |wb| {
            Ok(navigate::find_table(wb, sheet.as_deref(), &table)?
                .map(|(_, t)| (t.display_name.clone(), t.area.last_col - t.area.first_col + 1)))
        })
        .await?
    };
    let count = match &values {
        Some(Value::Array(rows)) if !rows.is_empty() => rows.len(),
        Some(Value::Array(_)) => return Err(GraphError::invalid_argument("values holds no rows.")),
        Some(other) => {
            return Err(GraphError::invalid_argument(format!("values must be an array of rows, not {other}.")))
        }
        None => 1,
    };
    // The values are read as a range update over a block of the new rows' shape would be.
    let inputs = match values {
        None => None,
        Some(v) => {
            let block = book::Area::cells(0, 0, count as u32 - 1, width - 1);
            let one = requests::RangeUpdate { values: Some(v), ..Default::default() };
            match range::patch_edit("-", &block, &one, ctx.app.config.max_write_cells)? {
                Some(book::Edit::SetCells(set)) => set.inputs,
                _ => None,
            }
        }
    };
    let edit = book::Edit::AddTableRows { table: table_name.clone(), index, count: count as u32, inputs };
    let read_back = move |wb: &book::Workbook| {
        let at = match index {
            Some(i) => i64::from(i),
            // Rows were added at the end: the first of them is `count` rows from it.
            None => match items::rows_json(wb, sheet.as_deref(), &table_name, |_| 0..0)? {
                Ok((_, total)) => total as i64 - count as i64,
                Err(e) => return Ok(Err(e)),
            },
        };
        items::row_get(wb, sheet.as_deref(), &table_name, at)
    };
    let user = ctx.who.drive_owner();
    // In a session, `Prefer: respond-async` makes it an operation: 202 and where to poll.
    if let (true, Some(session)) = (prefers_async(&ctx), ctx.header(SESSION_HEADER).map(str::to_string)) {
        let (host, owner, id) = (ctx.app.host.clone(), user.to_string(), item.id.clone());
        let op = ctx.app.host.start_operation(user, &item.id, async move {
            match host.write(&owner, &id, Target::Session(&session), edit, read_back).await? {
                Ok(row) => Ok(Outcome::Value(row)),
                Err(e) => Err(HostError::Book(BookError::InvalidEdit(e.message))),
            }
        });
        let mut response = json_response(StatusCode::ACCEPTED, json!({}));
        if let Ok(v) = HeaderValue::from_str(&format!("{}/operations/{op}", workbook_url(&ctx))) {
            response.headers_mut().insert(header::LOCATION, v);
        }
        return Ok(response);
    }
    let row = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)??;
    let mut response = entity(&ctx, "rows/$entity", row);
    if created {
        *response.status_mut() = StatusCode::CREATED;
    }
    Ok(response)
}

/// `DELETE rows/{index}`: the row goes, the rows below move up. 200 with no body.
pub(super) async fn row_delete(
    ctx: Ctx,
    address: ItemAddress,
    sheet: Option<String>,
    table: String,
    index: i64,
) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let table_name = {
        let (sheet, table) = (sheet.clone(), table.clone());
        lookup(&ctx, &address, move |wb| {
            let found = match navigate::find_table(wb, sheet.as_deref(), &table)? {
                Ok((_, t)) => t,
                Err(e) => return Ok(Err(e)),
            };
            let rows = navigate::table_rows(found, navigate::TablePart::DataBody).map_or(0, |(a, b)| b - a + 1);
            if !(0..i64::from(rows)).contains(&index) {
                return Ok(Err(GraphError::item_not_found(format!(
                    "Row {index} of table '{}' was not found.",
                    found.display_name
                ))));
            }
            Ok(Ok(found.display_name.clone()))
        })
        .await?
    };
    let edit = book::Edit::DeleteTableRows { table: table_name, index: index as u32, count: 1 };
    let user = ctx.who.drive_owner();
    ctx.app.host.write(user, &item.id, target(&ctx), edit, |_| Ok(())).await.map_err(workbook_error)?;
    Ok(StatusCode::OK.into_response())
}
