// cloudflare:sockets (no compatibility flag needed): connect(address, options) opens a TCP
// connection (https://developers.cloudflare.com/workers/runtime-apis/tcp-sockets/). The
// Socket, its streams and its flow control are the runtime's (js/37_sockets.js); the
// connection is made by the worker (isolate_worker/sockets.py) under the outbound address
// policy of fetch(), and is a subrequest of the request that opens it.
"use strict";

const host = require("isoflow:host");

exports.connect = (address, options) => host.connect(address, options);
