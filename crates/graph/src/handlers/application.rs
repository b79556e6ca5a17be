//! The workbook application: calculation mode and calculate.

use super::*;

pub(super) fn calculation_mode(mode: book::model::CalcMode) -> &'static str {
    match mode {
        book::model::CalcMode::Automatic => "Automatic",
        book::model::CalcMode::AutomaticNoTables => "AutomaticExceptTables",
        book::model::CalcMode::Manual => "Manual",
    }
}

pub(super) async fn application_get(ctx: Ctx, address: ItemAddress) -> Answer {
    let mode = lookup(&ctx, &address, |wb| Ok(Ok(wb.calc_mode()))).await?;
    Ok(entity(&ctx, "workbookApplication", json!({ "calculationMode": calculation_mode(mode) })))
}

/// `calculate`: `Recalculate` recalculates what changed, `Full` and `FullRebuild` everything.
/// Answers 200 with no body, as the docs show.
pub(super) async fn application_calculate(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let kind = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("calculationType")).map(|(_, v)| v);
    let full = match kind {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Recalculate") => false,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Full") || s.eq_ignore_ascii_case("FullRebuild") => true,
        Some(other) => {
            return Err(GraphError::invalid_argument(format!(
                "calculationType must be Recalculate, Full or FullRebuild, not {other}."
            )))
        }
    };
    ctx.app
        .host
        .write(ctx.who.drive_owner(), &item.id, target(&ctx), book::Edit::Calculate { full }, |_| Ok(()))
        .await
        .map_err(workbook_error)?;
    Ok(StatusCode::OK.into_response())
}
