//! Worksheets: list, get, add, update, delete.

use super::*;

pub(super) async fn worksheet_list(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let sheets = ctx
        .app
        .host
        .peek(ctx.who.drive_owner(), &item.id, target(&ctx), |wb| Ok(range::worksheets_json(wb)))
        .await
        .map_err(workbook_error)?;
    Ok(collection(&ctx, "worksheets", sheets))
}

pub(super) async fn worksheet_get(ctx: Ctx, address: ItemAddress, sheet: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let found = ctx
        .app
        .host
        .peek(ctx.who.drive_owner(), &item.id, target(&ctx), move |wb| {
            let name = range::find_worksheet(wb, &sheet)?;
            Ok(range::worksheets_json(wb).into_iter().find(|s| s["name"] == name.as_str()))
        })
        .await
        .map_err(workbook_error)?;
    Ok(entity(&ctx, "worksheets/$entity", found.unwrap_or_default()))
}

/// The worksheet as Graph shows it, from the workbook after an edit.
pub(super) fn worksheet_after(
    name: String,
) -> impl FnOnce(&book::Workbook) -> Result<Value, BookError> + Send + 'static {
    move |wb| {
        let key = range::find_worksheet(wb, &name)?;
        Ok(range::worksheets_json(wb).into_iter().find(|s| s["name"] == key.as_str()).unwrap_or_default())
    }
}

/// `worksheets/add` (200) and `POST worksheets` (201): a new empty sheet after the others,
/// named `SheetN` (the first free N) when the body names none.
pub(super) async fn worksheet_add(ctx: Ctx, address: ItemAddress, created: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let given = request::<requests::WorksheetAdd>(&ctx)?.name;
    let user = ctx.who.drive_owner();
    let name = match given {
        Some(name) => name,
        None => ctx
            .app
            .host
            .read(user, &item.id, target(&ctx), |wb| {
                Ok((1..).map(|n| format!("Sheet{n}")).find(|n| wb.model().sheet_index(n).is_none()).unwrap_or_default())
            })
            .await
            .map_err(workbook_error)?,
    };
    let edit = book::Edit::AddSheet { name: name.clone() };
    let sheet =
        ctx.app.host.write(user, &item.id, target(&ctx), edit, worksheet_after(name)).await.map_err(workbook_error)?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json_response(status, entity_body(&ctx, "worksheets/$entity", sheet)))
}

/// PATCH of a worksheet: `visibility` (`Visible`, `Hidden`, `VeryHidden`). Renaming and moving
/// are not built yet: a body that changes `name` or `position` answers 501 and changes nothing.
pub(super) async fn worksheet_update(ctx: Ctx, address: ItemAddress, sheet: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = request::<requests::WorksheetUpdate>(&ctx)?;
    let user = ctx.who.drive_owner();
    let current = worksheet_now(&ctx, &item.id, sheet).await?;
    if body.id.as_ref().is_some_and(|id| current["id"] != *id) {
        return Err(GraphError::invalid_argument("A worksheet's id cannot be changed."));
    }
    let visibility = body.visibility.map(|v| match v {
        requests::SheetVisibility::Visible => book::model::Visibility::Visible,
        requests::SheetVisibility::Hidden => book::model::Visibility::Hidden,
        requests::SheetVisibility::VeryHidden => book::model::Visibility::VeryHidden,
    });
    let (name, position) = (body.name, body.position);
    let sheet = current["name"].as_str().unwrap_or_default().to_string();
    let after = name.clone().unwrap_or_else(|| sheet.clone());
    let updated = if visibility.is_some() || name.is_some() || position.is_some() {
        let edit = book::Edit::UpdateSheet { sheet, name, position, visibility };
        ctx.app.host.write(user, &item.id, target(&ctx), edit, worksheet_after(after)).await
    } else {
        ctx.app.host.read(user, &item.id, target(&ctx), worksheet_after(after)).await
    }
    .map_err(workbook_error)?;
    Ok(entity(&ctx, "worksheets/$entity", updated))
}

/// A worksheet as Graph shows it now (404 when there is none of that name or id).
pub(super) async fn worksheet_now(ctx: &Ctx, item_id: &str, sheet: String) -> Result<Value, GraphError> {
    ctx.app
        .host
        .read(ctx.who.drive_owner(), item_id, target(ctx), move |wb| worksheet_after(sheet)(wb))
        .await
        .map_err(workbook_error)
}

/// `DELETE worksheets/{w}`: 200 with no body, as the page says. References to the sheet
/// become `#REF!`.
pub(super) async fn worksheet_delete(ctx: Ctx, address: ItemAddress, sheet: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let user = ctx.who.drive_owner();
    let current = worksheet_now(&ctx, &item.id, sheet).await?;
    let edit = book::Edit::DeleteSheet { sheet: current["name"].as_str().unwrap_or_default().to_string() };
    ctx.app.host.write(user, &item.id, target(&ctx), edit, |_| Ok(())).await.map_err(workbook_error)?;
    Ok(StatusCode::OK.into_response())
}
