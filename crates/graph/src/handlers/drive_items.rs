//! Drives and drive items: metadata, children, content upload and download, delete.

use super::*;

pub(super) async fn drive_get(ctx: Ctx, drive: DriveRef) -> Answer {
    let who = ctx.who.clone();
    let d = ctx.app.host.with_store(move |s| locate_drive(s, &who, &drive)).await?;
    let mut body = drive_json(&ctx, &d);
    body["@odata.context"] = json!(ctx.odata_context("drives/$entity"));
    Ok(json_response(StatusCode::OK, selected(&ctx, body)))
}

/// List drives: an owner has one drive here (OneDrive's document library).
pub(super) async fn drive_list(ctx: Ctx, owner: DriveRef) -> Answer {
    let who = ctx.who.clone();
    let d = ctx.app.host.with_store(move |s| locate_drive(s, &who, &owner)).await?;
    let drive = selected(&ctx, drive_json(&ctx, &d));
    Ok(collection(&ctx, "drives", vec![drive]))
}

pub(super) fn drive_json(ctx: &Ctx, d: &store::Drive) -> Value {
    let owner = match d.owner.split_once(':') {
        Some(("user", _)) => json!({ "user": { "id": ctx.who.user_id, "displayName": ctx.who.username } }),
        Some((kind, id)) => json!({ kind: { "id": id } }),
        None => json!({}),
    };
    to_json(&responses::Drive { id: d.id.clone(), drive_type: "business", name: "OneDrive", owner })
}

/// A short-lived pre-authenticated URL for an item's content.
pub(super) fn download_url(ctx: &Ctx, item: &Item) -> String {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) + 3600;
    let claims = json!({ "item": item.id, "exp": exp });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&ctx.app.download_key),
    )
    .unwrap_or_default();
    format!("{}/_workbookd/download/{token}", ctx.base())
}

pub(super) fn etag_header(item: &Item) -> Option<HeaderValue> {
    HeaderValue::from_str(&item.etag()).ok()
}

/// `If-Match` against the item's eTag (or cTag): a mismatch is 412.
pub(super) fn check_if_match(ctx: &Ctx, item: &Item) -> Result<(), GraphError> {
    let Some(wanted) = ctx.header("if-match") else { return Ok(()) };
    let matches = entity_tags(wanted).iter().any(|t| t == "*" || *t == item.etag() || *t == item.ctag());
    if matches {
        Ok(())
    } else {
        Err(GraphError::new(Code::ResourceModified, None, "ETag does not match current item's value"))
    }
}

/// The tags of an `If-Match` list. Graph's tags hold commas (`"{GUID},1"`), so the list is
/// split only outside quotes.
pub(super) fn entity_tags(list: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in list.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => tags.push(std::mem::take(&mut current).trim().to_string()),
            _ => current.push(c),
        }
    }
    tags.push(current.trim().to_string());
    tags.retain(|t| !t.is_empty());
    tags
}

pub(super) async fn item_get(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = find(&ctx, &address).await?;
    // Metadata reflects every acknowledged write: pending journal records are saved first.
    let item = flushed(&ctx, item).await?;
    let url = (!item.is_folder).then(|| download_url(&ctx, &item));
    let item2 = item.clone();
    let mut body = ctx.app.host.with_store(move |s| item_json(s, &item2, url)).await;
    body["@odata.context"] = json!(ctx.odata_context(&format!("drives('{}')/items/$entity", item.drive_id)));
    let mut response = json_response(StatusCode::OK, selected(&ctx, body));
    if let Some(v) = etag_header(&item) {
        response.headers_mut().insert(header::ETAG, v);
    }
    Ok(response)
}

pub(super) async fn flushed(ctx: &Ctx, item: Item) -> Result<Item, GraphError> {
    if item.is_folder || item.journal_len == 0 {
        return Ok(item);
    }
    match ctx.app.host.flush(&item.id).await {
        Ok(()) => {}
        // No room to fold the journal in: the metadata as stored (its size lags the journal).
        Err(HostError::Store(store::StoreError::Full(_))) => return Ok(item),
        Err(e) => return Err(GraphError::from(e)),
    }
    let id = item.id.clone();
    ctx.app
        .host
        .with_store(move |s| s.item(&id))
        .await
        .map_err(GraphError::from)?
        .ok_or_else(GraphError::drive_item_not_found)
}

pub(super) async fn item_children(ctx: Ctx, address: ItemAddress) -> Answer {
    let folder = find(&ctx, &address).await?;
    if !folder.is_folder {
        return Err(GraphError::new(Code::InvalidRequest, None, "The item is not a folder."));
    }
    // OneDrive pages children by 200 (at most 1000 with `$top`), with its own `$skiptoken`.
    let top = match ctx.odata.top {
        None => 200,
        Some(t) if (1..=1000).contains(&t) => t,
        Some(t) => return Err(GraphError::new(Code::InvalidRequest, None, format!("Invalid $top value '{t}'."))),
    };
    let skip: usize = ctx.query.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let id = folder.id.clone();
    let children = ctx.app.host.with_store(move |s| s.children(&id)).await.map_err(GraphError::from)?;
    let page: Vec<Item> = children.iter().skip(skip).take(top).cloned().collect();
    let urls: Vec<Option<String>> = page.iter().map(|i| (!i.is_folder).then(|| download_url(&ctx, i))).collect();
    let values = ctx
        .app
        .host
        .with_store(move |s| page.iter().zip(urls).map(|(i, u)| item_json(s, i, u)).collect::<Vec<_>>())
        .await;
    let values: Vec<Value> = values.into_iter().map(|v| selected(&ctx, v)).collect();
    let mut body = json!({
        "@odata.context": ctx.odata_context(&format!("drives('{}')/items('{}')/children", folder.drive_id, folder.id)),
    });
    if ctx.odata.count {
        body["@odata.count"] = json!(children.len());
    }
    body["value"] = Value::Array(values);
    if skip + top < children.len() {
        body["@odata.nextLink"] = json!(format!("{}?$top={top}&$skiptoken={}", ctx.url(), skip + top));
    }
    Ok(json_response(StatusCode::OK, body))
}

/// `GET …/content`: 302 to the pre-authenticated download URL, as Graph does.
pub(super) async fn content_get(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = find(&ctx, &address).await?;
    if item.is_folder {
        return Err(GraphError::new(Code::InvalidRequest, None, "A folder has no content."));
    }
    let url = download_url(&ctx, &item);
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// The pre-authenticated download: the file with every acknowledged write in it.
pub(crate) async fn download(State(app): State<App>, Path(token): Path<String>) -> Response {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    let claims =
        jsonwebtoken::decode::<Value>(&token, &jsonwebtoken::DecodingKey::from_secret(&app.download_key), &validation);
    let Some(item_id) = claims.ok().and_then(|c| c.claims["item"].as_str().map(str::to_string)) else {
        return error_response(&GraphError::new(
            Code::Unauthenticated,
            None,
            "The download URL is not valid or has expired.",
        ));
    };
    match app.host.content_bytes(&item_id).await {
        Ok(bytes) => {
            let name = app.host.with_store(move |s| s.item(&item_id)).await.ok().flatten().map(|i| i.name);
            let mime = name.as_deref().map_or("application/octet-stream", drive::mime_type);
            let mut response = Response::new(Body::from(bytes.to_vec()));
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            response
        }
        Err(e) => error_response(&GraphError::from(e)),
    }
}

pub(super) async fn content_put(ctx: Ctx, address: ItemAddress) -> Answer {
    let conflict = match ctx.query.get("@microsoft.graph.conflictbehavior").map(|s| s.to_ascii_lowercase()) {
        None => Conflict::Replace,
        Some(c) if c == "replace" => Conflict::Replace,
        Some(c) if c == "fail" => Conflict::Fail,
        Some(c) if c == "rename" => Conflict::Rename,
        Some(c) => {
            return Err(GraphError::new(Code::InvalidRequest, None, format!("Invalid conflictBehavior '{c}'.")));
        }
    };
    let (who, addr) = (ctx.who.clone(), address.clone());
    let target = ctx
        .app
        .host
        .with_store(move |s| {
            let drive = locate_drive(s, &who, &addr.drive)?;
            upload_target(s, &drive, &addr)
        })
        .await?;
    let bytes = ctx.body.to_vec();
    let (item, created) = match target {
        UploadTarget::Existing(item) => {
            check_if_match(&ctx, &item)?;
            (ctx.app.host.replace_content(&item.id, bytes).await.map_err(GraphError::from)?, false)
        }
        UploadTarget::New { parent_id, name } => {
            if ctx.header("if-match").is_some() {
                let (p, n) = (parent_id.clone(), name.clone());
                if let Some(existing) =
                    ctx.app.host.with_store(move |s| s.child(&p, &n)).await.map_err(GraphError::from)?
                {
                    check_if_match(&ctx, &existing)?;
                }
            }
            ctx.app.host.put_file(&parent_id, &name, bytes, conflict).await.map_err(GraphError::from)?
        }
    };
    let url = download_url(&ctx, &item);
    let item2 = item.clone();
    let mut body = ctx.app.host.with_store(move |s| item_json(s, &item2, Some(url))).await;
    body["@odata.context"] = json!(ctx.odata_context(&format!("drives('{}')/items/$entity", item.drive_id)));
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let mut response = json_response(status, body);
    if let Some(v) = etag_header(&item) {
        response.headers_mut().insert(header::ETAG, v);
    }
    Ok(response)
}

pub(super) async fn item_delete(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = find(&ctx, &address).await?;
    check_if_match(&ctx, &item)?;
    if item.parent_id.is_none() {
        return Err(GraphError::new(Code::AccessDenied, None, "The root folder cannot be deleted."));
    }
    ctx.app.host.delete(&item.id).await.map_err(GraphError::from)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn entity_tag_lists_keep_commas_inside_quotes() {
        assert_eq!(super::entity_tags(r#""{A},1""#), [r#""{A},1""#]);
        assert_eq!(super::entity_tags(r#""{A},1", W/"x" , *"#), [r#""{A},1""#, r#"W/"x""#, "*"]);
    }
}
