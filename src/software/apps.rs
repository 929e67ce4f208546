//! Application servers and WebSocket libraries behind the proxies (Python websockets, uvicorn,
//! Node ws/Express/Socket.IO, Go gorilla/coder, Rust axum/tungstenite, …): how their answers
//! look, and the advice when the application itself is the culprit.
//! Sources: captures in src/probe/fixtures (websockets 17.4, uvicorn, werkzeug, node ws 8.23,
//! gorilla/websocket) and each library's handshake code.
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::BackendLibrary,
    name: "app",
    display: "the backend",
    kind: HopKind::Backend,
    aliases: &[],
    http2: None,
    changes: &[],
    #[rustfmt::skip]
    recognise: &[
    // Bodies of backend libraries (checked: websockets 17.4 behind nginx keeps this body).
    (AppBody("failed to open a websocket connection"), A::PythonWebsockets),
    (AppBody("you cannot access a websocket server directly with a browser"), A::PythonWebsockets),
    (AppBody("websocket: the client is not using the websocket protocol"), A::Go),
    (AppBody("websocket: not a websocket handshake"), A::Go),
    (AppBody("websocket protocol violation"), A::Go),
    (AppBody("no websocket upgrade hdr"), A::Aiohttp),
    (AppBody("no connection upgrade hdr"), A::Aiohttp),
    (AppBody("connection header did not include 'upgrade'"), A::Rust),
    (AppBody("`upgrade` header did not include 'websocket'"), A::Rust),
    (AppBody("no upgrade state was present"), A::Rust),
    (AppBody("missing or invalid sec-websocket-key header"), A::Node),
    (AppBody("{\"code\":3,\"message\":\"bad request\"}"), A::Node),
    // Node `ws` answers a request without Upgrade with its http.STATUS_CODES text (ws 8.23).
    (AppBodyIs("upgrade required"), A::Node),
    (Server("websockets/"), A::PythonWebsockets),
    (Server("aiohttp"), A::Aiohttp),
    (Server("uvicorn"), A::Uvicorn),
    (Server("gunicorn"), A::Gunicorn),
    (Server("hypercorn"), A::Hypercorn),
    (Server("daphne"), A::Daphne),
    (Server("tornadoserver"), A::Tornado),
    (Server("werkzeug"), A::Werkzeug),
    (Server("kestrel"), A::Kestrel),
    (Server("jetty"), A::Jetty),
    (Header("x-powered-by", "express"), A::Node),
    // Node's http module: `Keep-Alive: timeout=5` (its default keepAliveTimeout), no Server.
    (HeaderIs("keep-alive", "timeout=5"), A::Node),
    ],
    #[rustfmt::skip]
    idle: &[    ],
    #[rustfmt::skip]
    advice: &[
    row(V::UpgradeStripped, Sw(S::BackendLibrary), BACKEND_NO_UPGRADE),
    row(V::FramesFailed, Sw(S::BackendLibrary), APP_NO_FRAMES),
    row(V::IdleDropped, Sw(S::BackendLibrary), APP_IDLE),

    ],
};
