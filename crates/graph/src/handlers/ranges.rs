//! Ranges: read, write, clear, insert and delete cells, merge, views.

use super::*;

pub(super) fn range_response(ctx: &Ctx, read: &range::RangeRead) -> Response {
    let select = ctx.select();
    let keep = |name: &str| select.is_none_or(|s| s.iter().any(|k| k.eq_ignore_ascii_case(name)));
    let body = range::render_range(read, &ctx.odata_context("workbookRange"), &keep);
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// A range read through any entry point and navigation; arguments the URL left out of the
/// last step may come from a JSON body (the docs show `offsetRange`, `row`, `boundingRect`, …
/// with one).
pub(super) async fn range_get(ctx: Ctx, address: ItemAddress, mut range: RangeRef) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    if let Some(last) = range.steps.last_mut() {
        last.fill_from_body(&json_body(&ctx)?)?;
    }
    // Small reads of a fixed address run on the request's own task.
    let small = match (&range.base, range.steps.iter().all(RangeStep::never_grows)) {
        (RangeBase::Sheet { address: Some(a), .. }, true) => {
            book::SheetArea::parse(a).is_ok_and(|a| a.area.cell_count() <= range::SMALL_READ_CELLS)
        }
        (RangeBase::Cell { .. }, true) => true,
        _ => false,
    };
    let cells = range::shows_cells(ctx.select());
    let max_read = ctx.app.config.max_read_cells;
    let read = move |wb: &book::Workbook| {
        let found = match navigate::locate(wb, &range)? {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        if cells && found.area.cell_count() > max_read {
            return Ok(Err(range::too_large(found.area.cell_count(), max_read)));
        }
        Ok(Ok(range::RangeRead::read_if(wb, &found.sheet, found.area, cells)?))
    };
    let (user, target) = (ctx.who.drive_owner(), target(&ctx));
    let result = if small {
        ctx.app.host.peek(user, &item.id, target, read).await
    } else {
        ctx.app.host.read(user, &item.id, target, read).await
    };
    Ok(range_response(&ctx, &result.map_err(workbook_error)??))
}

/// Where a range path lies in the workbook: its sheet's real name and its cells.
pub(super) async fn locate(ctx: &Ctx, item_id: &str, range: RangeRef) -> Result<navigate::Located, GraphError> {
    ctx.app
        .host
        .read(ctx.who.drive_owner(), item_id, target(ctx), move |wb| navigate::locate(wb, &range))
        .await
        .map_err(workbook_error)?
}

pub(super) async fn range_update(ctx: Ctx, address: ItemAddress, range: RangeRef) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = request::<requests::RangeUpdate>(&ctx)?;
    let user = ctx.who.drive_owner();
    let found = locate(&ctx, &item.id, range).await?;
    // Every part of the body is checked before anything is written: cells first, then hiding.
    let (max_read, max_write) = (ctx.app.config.max_read_cells, ctx.app.config.max_write_cells);
    let mut edits: Vec<book::Edit> =
        range::patch_edit(&found.sheet, &found.area, &body, max_write)?.into_iter().collect();
    edits.extend(range::hidden_edits(&found.sheet, &found.area, &body));
    let read_back = {
        let (name, area) = (found.sheet.clone(), found.area);
        move |wb: &book::Workbook| -> Result<range::RangeRead, BookError> {
            range::RangeRead::read(wb, &name, area, max_read)
        }
    };
    // One record for the whole PATCH: a crash or a timeout keeps all of it or none.
    let edit = match edits.len() {
        0 => None,
        1 => edits.pop(),
        _ => Some(book::Edit::Several { edits }),
    };
    let result = match edit {
        Some(edit) => ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await,
        None => ctx.app.host.read(user, &item.id, target(&ctx), read_back).await,
    };
    Ok(range_response(&ctx, &result.map_err(workbook_error)?))
}

/// `clear` with `applyTo` `All` (the default), `Contents` or `Formats`. Answers 204: the
/// page's prose says 200, its example 204 with no body, and no content is what there is.
pub(super) async fn range_clear(ctx: Ctx, address: ItemAddress, range: RangeRef) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let (contents, formats) = match request::<requests::RangeClear>(&ctx)?.apply_to {
        None | Some(requests::ClearApplyTo::All) => (true, true),
        Some(requests::ClearApplyTo::Contents) => (true, false),
        Some(requests::ClearApplyTo::Formats) => (false, true),
    };
    let user = ctx.who.drive_owner();
    let found = locate(&ctx, &item.id, range).await?;
    let a = found.area;
    let edit = book::Edit::ClearCells(book::ClearCells {
        sheet: found.sheet,
        first_row: a.first_row,
        first_col: a.first_col,
        last_row: a.last_row,
        last_col: a.last_col,
        contents,
        formats,
    });
    ctx.app.host.write(user, &item.id, target(&ctx), edit, |_| Ok(())).await.map_err(workbook_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `merge` (`across`: each row on its own) and `unmerge`; both answer 200 with no body.
pub(super) async fn range_merge(ctx: Ctx, address: ItemAddress, range: RangeRef, merge: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let across = if merge { request::<requests::RangeMerge>(&ctx)?.across.unwrap_or(false) } else { false };
    let found = locate(&ctx, &item.id, range).await?;
    let (sheet, area) = (found.sheet, found.area.to_a1());
    let edit = if merge { book::Edit::Merge { sheet, area, across } } else { book::Edit::Unmerge { sheet, area } };
    let user = ctx.who.drive_owner();
    ctx.app.host.write(user, &item.id, target(&ctx), edit, |_| Ok(())).await.map_err(workbook_error)?;
    Ok(StatusCode::OK.into_response())
}

/// `insert` (`shift` Down or Right; answers the inserted cells' range) and `delete` (`shift`
/// Up or Left; answers 200 with no body). References everywhere follow the moved cells.
pub(super) async fn range_shift(ctx: Ctx, address: ItemAddress, range: RangeRef, insert: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let axis = if insert {
        match request::<requests::RangeInsert>(&ctx)?.shift {
            requests::InsertShift::Down => book::Axis::Rows,
            requests::InsertShift::Right => book::Axis::Cols,
        }
    } else {
        match request::<requests::RangeDelete>(&ctx)?.shift {
            requests::DeleteShift::Up => book::Axis::Rows,
            requests::DeleteShift::Left => book::Axis::Cols,
        }
    };
    let user = ctx.who.drive_owner();
    let found = locate(&ctx, &item.id, range).await?;
    let edit = book::Edit::ShiftCells(book::Shift::of_area(&found.sheet, &found.area, axis, insert));
    let (name, area) = (found.sheet.clone(), found.area);
    let max_read = ctx.app.config.max_read_cells;
    let read_back = move |wb: &book::Workbook| -> Result<Option<range::RangeRead>, BookError> {
        if !insert {
            return Ok(None);
        }
        range::RangeRead::read(wb, &name, area, max_read).map(Some)
    };
    let result = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)?;
    match result {
        Some(read) => Ok(range_response(&ctx, &read)),
        // The page and the catalogue: 200 with no body.
        None => Ok(StatusCode::OK.into_response()),
    }
}

/// A range's visible view: its rows that are not hidden (`visibleView`), each of them as a
/// view (`rows`, `itemAt`), or the range the view belongs to (`range`).
pub(super) async fn range_view(ctx: Ctx, address: ItemAddress, range: RangeRef, part: ViewPart) -> Answer {
    enum Answered {
        View(Value),
        Views(Vec<Value>),
        Range(range::RangeRead),
    }
    let max_read = ctx.app.config.max_read_cells;
    let answer = lookup(&ctx, &address, move |wb| {
        let found = match navigate::locate(wb, &range)? {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        if found.area.cell_count() > max_read {
            return Ok(Err(range::too_large(found.area.cell_count(), max_read)));
        }
        let (sheet, area) = (&found.sheet, &found.area);
        let rows = items::visible_rows(wb, sheet, area);
        Ok(Ok(match part {
            ViewPart::Whole => Answered::View(items::view_json(wb, sheet, area, &rows, 0)?),
            ViewPart::Rows => Answered::Views(
                rows.iter()
                    .enumerate()
                    .map(|(i, r)| items::view_json(wb, sheet, area, &[*r], i))
                    .collect::<Result<_, _>>()?,
            ),
            ViewPart::ItemAt(i) => match usize::try_from(i).ok().and_then(|i| rows.get(i).map(|r| (i, *r))) {
                Some((i, r)) => Answered::View(items::view_json(wb, sheet, area, &[r], i)?),
                None => return Ok(Err(GraphError::item_not_found(format!("The view has no row {i}.")))),
            },
            ViewPart::Range => Answered::Range(range::RangeRead::read(wb, sheet, *area, max_read)?),
        }))
    })
    .await?;
    Ok(match answer {
        Answered::View(v) => entity(&ctx, "workbookRangeView", v),
        Answered::Views(v) => collection(&ctx, "workbookRangeView", v),
        Answered::Range(r) => range_response(&ctx, &r),
    })
}
