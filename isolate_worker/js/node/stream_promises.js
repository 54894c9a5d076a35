// node:stream/promises under nodejs_compat: pipeline and finished as promises (the ones
// node:stream has as stream.promises).
"use strict";

module.exports = require("node:stream").promises;
