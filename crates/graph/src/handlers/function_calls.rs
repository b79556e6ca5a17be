//! Graph's workbook functions (`workbook/functions/{name}`).

use super::*;

/// `POST functions/{name}`: the body's named arguments (values, `{"address": …}` ranges, arrays,
/// and for list parameters a JSON array of them) in Excel's order, evaluated over the workbook
/// as it is in the session (or as stored); nothing changes. Answers `workbookFunctionResult`.
pub(super) async fn function_call(ctx: Ctx, address: ItemAddress, name: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let sig = functions::signature(&name).ok_or_else(|| GraphError::unknown_segment(&name))?;
    let args = functions::arguments(sig, &json_body(&ctx)?)?;
    let excel = functions::excel_name(sig);
    let user = ctx.who.drive_owner();
    let value = ctx
        .app
        .host
        .evaluate(user, &item.id, target(&ctx), move |wb| {
            if !book::Workbook::has_function(&excel) {
                return Ok(Err(GraphError::not_implemented(&format!("workbook-functions ({})", sig.name))));
            }
            // References without a sheet are on the first visible worksheet.
            let home = wb
                .model()
                .sheets
                .iter()
                .find(|s| {
                    s.kind == book::model::SheetKind::Worksheet && s.visibility == book::model::Visibility::Visible
                })
                .map(|s| s.name.clone());
            let Some(home) = home else {
                return Ok(Err(GraphError::invalid_argument("The workbook has no visible worksheet.")));
            };
            for a in &args {
                if let functions::Arg::Reference(r) = a {
                    if let Some(s) = &r.sheet {
                        if range::find_worksheet(wb, s).is_err() {
                            return Ok(Err(GraphError::item_not_found(format!("The worksheet '{s}' was not found."))));
                        }
                    }
                }
            }
            let formula = functions::formula(&excel, &args, &home);
            if formula.len() > 8192 {
                return Ok(Err(GraphError::invalid_argument(
                    "The arguments make a formula longer than Excel's 8,192 characters.",
                )));
            }
            wb.evaluate(&home, &formula).map(Ok)
        })
        .await
        .map_err(workbook_error)??;
    let (error, value) = functions::result(&value);
    // Graph names the call itself: `…/workbook/functions/vlookup()`.
    let called = unversioned_path(ctx.path());
    let body = to_json(&responses::FunctionResult {
        odata_context: ctx.odata_context("workbookFunctionResult"),
        odata_type: "#microsoft.graph.workbookFunctionResult",
        odata_id: called.map(|p| format!("{p}()")),
        error,
        value,
    });
    Ok(json_response(StatusCode::OK, body))
}
