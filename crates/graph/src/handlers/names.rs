//! Named items: list, get, add, update.

use super::*;

/// `names/add` (`name`, `reference`, `comment`) and `names/addFormulaLocal` (`formula` instead of
/// `reference`); under `worksheets/{w}` the name is the sheet's own. Answers the named item.
pub(super) async fn name_add(ctx: Ctx, address: ItemAddress, sheet: Option<String>, formula_local: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let name = body_string(&body, "name")?.ok_or_else(|| GraphError::invalid_argument("name is required."))?;
    let what = if formula_local { "formula" } else { "reference" };
    // A reference may come as a string or, from some clients, as a number or boolean constant.
    let formula = match body.iter().find(|(k, _)| k.eq_ignore_ascii_case(what)).map(|(_, v)| v) {
        Some(Value::String(s)) => s.clone(),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string().to_ascii_uppercase(),
        _ => return Err(GraphError::invalid_argument(format!("{what} is required."))),
    };
    let comment = body_string(&body, "comment")?;
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
    let body = json_body(&ctx)?;
    let current = {
        let (sheet, name) = (sheet.clone(), name.clone());
        lookup(&ctx, &address, move |wb| items::name_get(wb, sheet.as_deref(), &name)).await?
    };
    let (mut visible, mut comment) = (None, None);
    for (k, v) in &body {
        match (k.to_ascii_lowercase().as_str(), v) {
            ("visible", Value::Bool(b)) => visible = Some(*b),
            ("comment", Value::String(s)) => comment = Some(s.clone()),
            (_, Value::Null) => {}
            ("name" | "type" | "scope" | "value", _) => {}
            (k, _) if k.starts_with('@') => {}
            (k, v) => {
                return Err(GraphError::invalid_argument(format!("The property '{k}' cannot be set to {v} on a name.")))
            }
        }
    }
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
