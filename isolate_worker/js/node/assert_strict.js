// node:assert/strict under nodejs_compat: node:assert's strict variant (assert.strict).
"use strict";

module.exports = require("node:assert").strict;
