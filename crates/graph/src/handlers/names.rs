//! Named items: list, get, add, update.

use super::*;

/// `names/add` (`name`, `reference`, `comment`) and `names/addFormulaLocal` (`formula` instead of
/// `reference`); under `worksheets/{w}` the name is the sheet's own. Answers the named item.
pub(super) async fn name_add(ctx: Ctx, address: ItemAddress, sheet: Option<String>, formula_local: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = request::<requests::NameAdd>(&ctx)?;
    let (what, given) = if formula_local { ("formula", body.formula) } else { ("reference", body.reference) };
    let formula = given.ok_or_else(|| GraphError::invalid_argument(format!("{what} is required.")))?.into_formula();
    let (name, comment) = (body.name, body.comment);
    let sheet_name = match &sheet {
        Some(s) => {
            let key = s.clone();
            Some(lookup(&ctx, &address, move |wb| Ok(Ok(range::find_worksheet(wb, &key)?))).await?)
        }
        None => None,
    };
    let edit = book::Edit::AddName { name: name.clone(), sheet: sheet_name, formula, comment };
    let read_back = move |wb: &book::Workbook| items::name_get(wb, sheet.as_deref(), &name);
    let user = ctx.who.drive_owner();
    let named = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)??;
    Ok(entity(&ctx, "names/$entity", named))
}

/// PATCH of a named item: `visible` and `comment`; its read-only properties may be sent back
/// unchanged (the page's example does).
pub(super) async fn name_update(ctx: Ctx, address: ItemAddress, sheet: Option<String>, name: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let requests::NameUpdate { visible, comment } = request(&ctx)?;
    let current = {
        let (sheet, name) = (sheet.clone(), name.clone());
        lookup(&ctx, &address, move |wb| items::name_get(wb, sheet.as_deref(), &name)).await?
    };
    let sheet_name = match &sheet {
        Some(s) => {
            let key = s.clone();
            Some(lookup(&ctx, &address, move |wb| Ok(Ok(range::find_worksheet(wb, &key)?))).await?)
        }
        None => None,
    };
    let real = current["name"].as_str().unwrap_or(&name).to_string();
    let edit = book::Edit::UpdateName { name: real.clone(), sheet: sheet_name, visible, comment };
    let read_back = move |wb: &book::Workbook| items::name_get(wb, sheet.as_deref(), &real);
    let user = ctx.who.drive_owner();
    let named = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)??;
    Ok(entity(&ctx, "names/$entity", named))
}

pub(super) async fn name_list(ctx: Ctx, address: ItemAddress, sheet: Option<String>) -> Answer {
    let names = lookup(&ctx, &address, move |wb| Ok(Ok(items::names_json(wb, sheet.as_deref())?))).await?;
    Ok(collection(&ctx, "names", names))
}

pub(super) async fn name_get(ctx: Ctx, address: ItemAddress, sheet: Option<String>, name: String) -> Answer {
    let found = lookup(&ctx, &address, move |wb| items::name_get(wb, sheet.as_deref(), &name)).await?;
    Ok(entity(&ctx, "names/$entity", found))
}
