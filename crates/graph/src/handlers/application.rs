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
    Ok(entity(
        &ctx,
        "workbookApplication",
        to_json(&responses::Application { calculation_mode: calculation_mode(mode) }),
    ))
}

/// `calculate`: `Recalculate` recalculates what changed, `Full` and `FullRebuild` everything.
/// Answers 200 with no body, as the docs show.
pub(super) async fn application_calculate(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let kind = request::<requests::Calculate>(&ctx)?.calculation_type;
    let full = matches!(kind, Some(requests::CalculationType::Full | requests::CalculationType::FullRebuild));
    ctx.app
        .host
        .write(ctx.who.drive_owner(), &item.id, target(&ctx), book::Edit::Calculate { full }, |_| Ok(()))
        .await
        .map_err(workbook_error)?;
    Ok(StatusCode::OK.into_response())
}
