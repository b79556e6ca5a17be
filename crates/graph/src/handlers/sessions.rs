//! Workbook sessions (create, refresh, close) and long-running operations.

use super::*;

pub(super) fn session_json(ctx: &Ctx, info: &SessionInfo) -> Value {
    to_json(&responses::SessionInfo {
        odata_context: ctx.odata_context("microsoft.graph.workbookSessionInfo"),
        id: info.id.clone(),
        persist_changes: info.persist_changes,
    })
}

pub(super) async fn create_session(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let persistent = request::<requests::CreateSession>(&ctx)?.persist_changes.unwrap_or(true);
    let user = ctx.who.drive_owner();
    if !prefers_async(&ctx) {
        let info = ctx.app.host.create_session(user, &item.id, persistent).await.map_err(workbook_error)?;
        return Ok(json_response(StatusCode::CREATED, session_json(&ctx, &info)));
    }
    let op = ctx.app.host.start_create_session(user, &item.id, persistent);
    if !ctx.app.host.config().force_async_sessions && !ctx.force_async {
        let threshold = ctx.app.host.config().async_threshold;
        if let Some(view) = ctx.app.host.wait_operation(&op, threshold).await {
            match view.result {
                Some(Ok(Outcome::Session(info))) => {
                    return Ok(json_response(StatusCode::CREATED, session_json(&ctx, &info)))
                }
                Some(Ok(Outcome::Value(_))) => {}
                Some(Err(e)) => return Err(GraphError::from(e).on_workbook()),
                None => {}
            }
        }
    }
    let mut response = json_response(StatusCode::ACCEPTED, json!({}));
    if let Ok(v) = HeaderValue::from_str(&format!("{}/operations/{op}", workbook_url(&ctx))) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

pub(super) async fn refresh_or_close(ctx: Ctx, address: ItemAddress, close: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let Some(session) = ctx.header(SESSION_HEADER) else {
        return Err(GraphError::new(
            Code::BadRequest,
            Some("badRequestUncategorized"),
            format!(
                "The {SESSION_HEADER} header is required by {}.",
                if close { "closeSession" } else { "refreshSession" }
            ),
        ));
    };
    let user = ctx.who.drive_owner();
    let result = if close {
        ctx.app.host.close_session(user, &item.id, session)
    } else {
        ctx.app.host.refresh_session(user, &item.id, session)
    };
    result.map_err(workbook_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn session_info(ctx: Ctx, address: ItemAddress, key: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let info = ctx.app.host.session_info(ctx.who.drive_owner(), &item.id, &key).map_err(workbook_error)?;
    Ok(json_response(StatusCode::OK, session_json(&ctx, &info)))
}

pub(super) fn operation_json(ctx: &Ctx, view: &OperationView) -> Value {
    let mut operation = responses::Operation {
        id: view.id.clone(),
        status: view.status.as_str(),
        resource_location: None,
        error: None,
    };
    match (&view.status, &view.result) {
        (OperationStatus::Succeeded, Some(Ok(Outcome::Value(_)))) => {
            operation.resource_location =
                Some(format!("{}/tableRowOperationResult(key='{}')", workbook_url(ctx), view.id));
        }
        (OperationStatus::Succeeded, _) => {
            operation.resource_location = Some(format!("{}/sessionInfoResource(key='{}')", workbook_url(ctx), view.id));
        }
        (OperationStatus::Failed, Some(Err(e))) => {
            // Graph names a file that would not open one level further down.
            let file_open = matches!(e, HostError::Unopenable(_)).then(|| {
                Box::new(responses::OperationError {
                    code: "GenericFileOpenError".into(),
                    message: "The workbook cannot be opened.".into(),
                    inner_error: None,
                })
            });
            let e = GraphError::from(e.clone()).on_workbook();
            operation.error = Some(responses::OperationError {
                code: e.code.as_str().to_string(),
                message: e.message.clone(),
                inner_error: Some(Box::new(responses::OperationError {
                    code: e.inner_code.unwrap_or(e.code.as_str()).to_string(),
                    message: e.message,
                    inner_error: file_open,
                })),
            });
        }
        _ => {}
    }
    to_json(&operation)
}

pub(super) async fn operation_get(ctx: Ctx, address: ItemAddress, id: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let view = ctx.app.host.operation(ctx.who.drive_owner(), &item.id, &id).map_err(workbook_error)?;
    let mut body = operation_json(&ctx, &view);
    body["@odata.context"] = json!(ctx.odata_context("microsoft.graph.workbookOperation"));
    Ok(json_response(StatusCode::OK, body))
}

/// `tableRowOperationResult(key=…)`: the row an async table row add made.
pub(super) async fn row_operation_result(ctx: Ctx, address: ItemAddress, key: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let key = key.trim_matches('\'').to_string();
    let row = ctx.app.host.operation_value(ctx.who.drive_owner(), &item.id, &key).map_err(workbook_error)?;
    Ok(entity(&ctx, "microsoft.graph.workbookTableRow", row))
}
