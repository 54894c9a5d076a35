// node:util/types under nodejs_compat: the same functions as node:util's `types`.
"use strict";

module.exports = require("node:util").types;
