//! # ghostplane-explorer
//!
//! The block explorer, as the node serves it. The page itself is a TypeScript app
//! in `explorer/` (built by `npm run build` with esbuild into `explorer/dist/`,
//! which is committed); this crate embeds those three files at compile time and
//! answers them as plain `GET` routes beside JSON-RPC on the L2 sequencer's port:
//!
//! ```text
//! GET /explorer             -> a redirect page to /explorer/
//! GET /explorer/            -> index.html
//! GET /explorer/app.js      -> the bundle (the TypeScript client inside)
//! GET /explorer/app.css     -> the styles
//! GET /explorer/config.json -> {"l1Url": …}: where the page reads the L1
//! anything else under it    -> 404
//! ```
//!
//! The page reads the L2 from its own origin and the L1 from `l1Url`, over
//! JSON-RPC and WebSocket; the servers' CORS layer (`ghostplane_rpc::cors`) lets it.
//! Nothing here reads the chain: the routes are static bytes and one small JSON
//! document, so they cost a route lookup and a copy.
//!
//! `testing/tests/tests/typescript.rs` rebuilds `explorer/dist` from its sources and
//! fails if the committed files differ, so what is embedded is what the sources say.

use std::sync::Arc;

use ghostplane_rpc::routes::{GetRoute, RouteReply};

/// The page (`explorer/dist/index.html`).
pub const INDEX_HTML: &[u8] = include_bytes!("../../../../explorer/dist/index.html");
/// The bundle (`explorer/dist/app.js`).
pub const APP_JS: &[u8] = include_bytes!("../../../../explorer/dist/app.js");
/// The styles (`explorer/dist/app.css`).
pub const APP_CSS: &[u8] = include_bytes!("../../../../explorer/dist/app.css");

/// Where the explorer is served.
pub const PREFIX: &str = "/explorer";

/// How long a browser may cache the static files, seconds. Short: a node upgrade
/// should show a new page soon.
pub const ASSET_MAX_AGE_SECS: u32 = 60;

/// What the page is told about its surroundings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplorerConfig {
    /// The L1 (ghostd) JSON-RPC URL the browser should use, e.g.
    /// `http://127.0.0.1:8545`.
    pub l1_url: String,
}

/// The explorer's routes for `ghostplane_rpc::serve_with_routes`.
pub fn routes(config: &ExplorerConfig) -> Vec<GetRoute> {
    let config_json = serde_json::json!({ "l1Url": config.l1_url })
        .to_string()
        .into_bytes();
    let handler = Arc::new(move |request: &ghostplane_rpc::routes::RouteRequest<'_>| {
        reply(request.tail, &config_json)
    });
    vec![GetRoute {
        prefix: PREFIX,
        post: false,
        handler,
    }]
}

/// The answer for the path `PREFIX + tail`.
fn reply(tail: &str, config_json: &[u8]) -> RouteReply {
    let asset = |content_type: &'static str, body: &[u8], max_age: Option<u32>| RouteReply {
        status: 200,
        content_type,
        body: body.to_vec(),
        max_age,
    };
    match tail {
        "" => asset(
            "text/html; charset=utf-8",
            b"<!doctype html><meta http-equiv=\"refresh\" content=\"0; url=/explorer/\"><a href=\"/explorer/\">explorer</a>",
            None,
        ),
        "/" | "/index.html" => asset(
            "text/html; charset=utf-8",
            INDEX_HTML,
            Some(ASSET_MAX_AGE_SECS),
        ),
        "/app.js" => asset(
            "text/javascript; charset=utf-8",
            APP_JS,
            Some(ASSET_MAX_AGE_SECS),
        ),
        "/app.css" => asset("text/css; charset=utf-8", APP_CSS, Some(ASSET_MAX_AGE_SECS)),
        "/config.json" => asset("application/json", config_json, None),
        _ => RouteReply::text(404, format!("no such explorer file: {PREFIX}{tail}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_files_and_refuses_the_rest() {
        let config = br#"{"l1Url":"http://127.0.0.1:8545"}"#;
        assert_eq!(reply("/", config).body, INDEX_HTML);
        assert_eq!(reply("/index.html", config).status, 200);
        assert_eq!(reply("/app.js", config).body, APP_JS);
        assert_eq!(
            reply("/app.css", config).content_type,
            "text/css; charset=utf-8"
        );
        assert_eq!(reply("/config.json", config).body, config);
        assert_eq!(reply("", config).status, 200);
        assert_eq!(reply("/../Cargo.toml", config).status, 404);
        assert_eq!(reply("/app.js.map", config).status, 404);
        assert_eq!(reply("bogus", config).status, 404);
    }
}
