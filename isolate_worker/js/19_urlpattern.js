// URLPattern (the WHATWG URL Pattern Standard): constructor strings and URLPatternInit
// dictionaries, baseURL, test(), exec(), named and regexp groups, wildcards, ignoreCase.
//
// Functions are named after the standard's algorithms, in its order: the tokenizer (§2.1),
// the pattern parser (§2.2), regular expression and pattern string generation (§2.3), the
// constructor string parser (§3), URLPatternInit processing and canonicalization (§4), and
// the URLPattern class with its matching algorithm (§1). Component canonicalization uses
// the URL parser itself with state overrides (internals.url.canonicalizeComponent).

const {
  ArrayPrototypePush,
  ObjectDefineProperty,
  RegExp: RegExpCtor,
  RegExpPrototypeExec,
  StringFromCodePoint,
  StringPrototypeCharCodeAt,
  StringPrototypeCodePointAt,
  StringPrototypeIndexOf,
  StringPrototypeLastIndexOf,
  StringPrototypeSlice,
  StringPrototypeReplace,
  StringPrototypeToLowerCase,
  StringPrototypeToUpperCase,
  TypeError: TypeErrorCtor,
} = primordials;

const { webidl } = internals;
const { converters } = webidl;
const urlInternals = internals.url;

function typeError(message) {
  return new TypeErrorCtor(`URLPattern: ${message}`);
}

// -- 2.1 Tokenizing --------------------------------------------------------------------------

const OPEN = 0, CLOSE = 1, REGEXP = 2, NAME = 3, CHAR = 4, ESCAPED_CHAR = 5;
const OTHER_MODIFIER = 6, ASTERISK = 7, END = 8, INVALID_CHAR = 9;

const ID_START = /^[$_\p{ID_Start}]$/u;
const ID_CONTINUE = /^[$\u200c\u200d\p{ID_Continue}]$/u;

function isValidNameCodePoint(codePoint, first) {
  return RegExpPrototypeExec(first ? ID_START : ID_CONTINUE, codePoint) !== null;
}

function isASCII(codePoint) {
  return StringPrototypeCharCodeAt(codePoint, 0) <= 0x7f;
}

/** tokenize(input, policy): a list of { type, index, value }; policy "strict" or "lenient". */
function tokenize(input, strict) {
  const tokens = [];
  let index = 0;
  let nextIndex = 0;
  let codePoint = "";

  const getNextCodePoint = () => {
    const cp = StringPrototypeCodePointAt(input, nextIndex);
    codePoint = StringFromCodePoint(cp);
    nextIndex += cp > 0xffff ? 2 : 1;
  };
  const seekAndGetNextCodePoint = (i) => {
    nextIndex = i;
    getNextCodePoint();
  };
  const addToken = (type, nextPosition, valuePosition, valueLength) => {
    ArrayPrototypePush(tokens, {
      __proto__: null, type, index,
      value: StringPrototypeSlice(input, valuePosition, valuePosition + valueLength),
    });
    index = nextPosition;
  };
  const addDefault = (type, nextPosition = nextIndex, valuePosition = index) =>
    addToken(type, nextPosition, valuePosition, nextPosition - valuePosition);
  const tokenizingError = (nextPosition, valuePosition) => {
    if (strict) throw typeError(`invalid pattern "${input}" at offset ${valuePosition}.`);
    addDefault(INVALID_CHAR, nextPosition, valuePosition);
  };

  while (index < input.length) {
    seekAndGetNextCodePoint(index);
    if (codePoint === "*") {
      addDefault(ASTERISK);
      continue;
    }
    if (codePoint === "+" || codePoint === "?") {
      addDefault(OTHER_MODIFIER);
      continue;
    }
    if (codePoint === "\\") {
      if (index === input.length - 1) {
        tokenizingError(nextIndex, index);
        continue;
      }
      const escapedIndex = nextIndex;
      getNextCodePoint();
      addDefault(ESCAPED_CHAR, nextIndex, escapedIndex);
      continue;
    }
    if (codePoint === "{") {
      addDefault(OPEN);
      continue;
    }
    if (codePoint === "}") {
      addDefault(CLOSE);
      continue;
    }
    if (codePoint === ":") {
      let namePosition = nextIndex;
      const nameStart = namePosition;
      while (namePosition < input.length) {
        seekAndGetNextCodePoint(namePosition);
        if (!isValidNameCodePoint(codePoint, namePosition === nameStart)) break;
        namePosition = nextIndex;
      }
      if (namePosition <= nameStart) {
        tokenizingError(nameStart, index);
        continue;
      }
      addDefault(NAME, namePosition, nameStart);
      continue;
    }
    if (codePoint === "(") {
      let depth = 1;
      let regexpPosition = nextIndex;
      const regexpStart = regexpPosition;
      let error = false;
      while (regexpPosition < input.length) {
        seekAndGetNextCodePoint(regexpPosition);
        if (!isASCII(codePoint) || (regexpPosition === regexpStart && codePoint === "?")) {
          tokenizingError(regexpStart, index);
          error = true;
          break;
        }
        if (codePoint === "\\") {
          if (regexpPosition === input.length - 1) {
            tokenizingError(regexpStart, index);
            error = true;
            break;
          }
          getNextCodePoint();
          if (!isASCII(codePoint)) {
            tokenizingError(regexpStart, index);
            error = true;
            break;
          }
          regexpPosition = nextIndex;
          continue;
        }
        if (codePoint === ")") {
          depth--;
          if (depth === 0) {
            regexpPosition = nextIndex;
            break;
          }
        } else if (codePoint === "(") {
          depth++;
          if (regexpPosition === input.length - 1) {
            tokenizingError(regexpStart, index);
            error = true;
            break;
          }
          const temporaryPosition = nextIndex;
          getNextCodePoint();
          if (codePoint !== "?") {
            tokenizingError(regexpStart, index);
            error = true;
            break;
          }
          nextIndex = temporaryPosition;
        }
        regexpPosition = nextIndex;
      }
      if (error) continue;
      if (depth !== 0) {
        tokenizingError(regexpStart, index);
        continue;
      }
      const regexpLength = regexpPosition - regexpStart - 1;
      if (regexpLength === 0) {
        tokenizingError(regexpStart, index);
        continue;
      }
      addToken(REGEXP, regexpPosition, regexpStart, regexpLength);
      continue;
    }
    addDefault(CHAR);
  }
  addDefault(END, index, index);
  return tokens;
}

// -- 2.2 Parsing pattern strings -------------------------------------------------------------

const FIXED_TEXT = 0, PART_REGEXP = 1, SEGMENT_WILDCARD = 2, FULL_WILDCARD = 3;
const NONE = 0, OPTIONAL = 1, ZERO_OR_MORE = 2, ONE_OR_MORE = 3;
const MODIFIER_STRINGS = ["", "?", "*", "+"];
const FULL_WILDCARD_REGEXP = ".*";

const DEFAULT_OPTIONS = { __proto__: null, delimiter: "", prefix: "", ignoreCase: false };
const HOSTNAME_OPTIONS = { __proto__: null, delimiter: ".", prefix: "", ignoreCase: false };
const PATHNAME_OPTIONS = { __proto__: null, delimiter: "/", prefix: "/", ignoreCase: false };

function escapeRegexpString(input) {
  let result = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (StringPrototypeIndexOf(".+*?^${}()[]|/\\", c) !== -1) result += "\\";
    result += c;
  }
  return result;
}

function escapePatternString(input) {
  let result = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (StringPrototypeIndexOf("+*?:{}()\\", c) !== -1) result += "\\";
    result += c;
  }
  return result;
}

function generateSegmentWildcardRegexp(options) {
  return `[^${escapeRegexpString(options.delimiter)}]+?`;
}

/** Parse a pattern string: its list of parts. */
function parsePatternString(input, options, encodingCallback) {
  const tokens = tokenize(input, true);
  const segmentWildcardRegexp = generateSegmentWildcardRegexp(options);
  const parts = [];
  let pendingFixedValue = "";
  let index = 0;
  let nextNumericName = 0;

  const tryConsume = (type) => {
    const token = tokens[index];
    if (token.type !== type) return null;
    index++;
    return token;
  };
  const tryConsumeModifier = () => tryConsume(OTHER_MODIFIER) ?? tryConsume(ASTERISK);
  const tryConsumeRegexpOrWildcard = (nameToken) => {
    const token = tryConsume(REGEXP);
    if (nameToken === null && token === null) return tryConsume(ASTERISK);
    return token;
  };
  const consumeRequired = (type) => {
    const token = tryConsume(type);
    if (token === null) {
      throw typeError(`invalid pattern "${input}": unexpected "${tokens[index].value}" ` +
        `at offset ${tokens[index].index}.`);
    }
    return token;
  };
  const consumeText = () => {
    let result = "";
    for (;;) {
      const token = tryConsume(CHAR) ?? tryConsume(ESCAPED_CHAR);
      if (token === null) return result;
      result += token.value;
    }
  };
  const maybeAddPartFromPendingFixedValue = () => {
    if (pendingFixedValue === "") return;
    const value = encodingCallback(pendingFixedValue);
    pendingFixedValue = "";
    ArrayPrototypePush(parts, {
      __proto__: null, type: FIXED_TEXT, value, modifier: NONE, name: "", prefix: "", suffix: "",
    });
  };
  const isDuplicateName = (name) => {
    for (let i = 0; i < parts.length; i++) if (parts[i].name === name) return true;
    return false;
  };
  const addPart = (prefix, nameToken, regexpOrWildcardToken, suffix, modifierToken) => {
    let modifier = NONE;
    if (modifierToken !== null) {
      modifier = modifierToken.value === "?" ? OPTIONAL
        : modifierToken.value === "*" ? ZERO_OR_MORE : ONE_OR_MORE;
    }
    if (nameToken === null && regexpOrWildcardToken === null && modifier === NONE) {
      pendingFixedValue += prefix;
      return;
    }
    maybeAddPartFromPendingFixedValue();
    if (nameToken === null && regexpOrWildcardToken === null) {
      if (prefix === "") return;
      ArrayPrototypePush(parts, {
        __proto__: null, type: FIXED_TEXT, value: encodingCallback(prefix), modifier,
        name: "", prefix: "", suffix: "",
      });
      return;
    }
    let regexpValue;
    if (regexpOrWildcardToken === null) regexpValue = segmentWildcardRegexp;
    else if (regexpOrWildcardToken.type === ASTERISK) regexpValue = FULL_WILDCARD_REGEXP;
    else regexpValue = regexpOrWildcardToken.value;
    let type = PART_REGEXP;
    if (regexpValue === segmentWildcardRegexp) {
      type = SEGMENT_WILDCARD;
      regexpValue = "";
    } else if (regexpValue === FULL_WILDCARD_REGEXP) {
      type = FULL_WILDCARD;
      regexpValue = "";
    }
    let name = "";
    if (nameToken !== null) name = nameToken.value;
    else if (regexpOrWildcardToken !== null) name = `${nextNumericName++}`;
    if (isDuplicateName(name)) throw typeError(`invalid pattern "${input}": duplicate name "${name}".`);
    ArrayPrototypePush(parts, {
      __proto__: null, type, value: regexpValue, modifier, name,
      prefix: encodingCallback(prefix), suffix: encodingCallback(suffix),
    });
  };

  while (index < tokens.length) {
    const charToken = tryConsume(CHAR);
    let nameToken = tryConsume(NAME);
    let regexpOrWildcardToken = tryConsumeRegexpOrWildcard(nameToken);
    if (nameToken !== null || regexpOrWildcardToken !== null) {
      let prefix = charToken !== null ? charToken.value : "";
      if (prefix !== "" && prefix !== options.prefix) {
        pendingFixedValue += prefix;
        prefix = "";
      }
      maybeAddPartFromPendingFixedValue();
      const modifierToken = tryConsumeModifier();
      addPart(prefix, nameToken, regexpOrWildcardToken, "", modifierToken);
      continue;
    }
    const fixedToken = charToken ?? tryConsume(ESCAPED_CHAR);
    if (fixedToken !== null) {
      pendingFixedValue += fixedToken.value;
      continue;
    }
    const openToken = tryConsume(OPEN);
    if (openToken !== null) {
      const prefix = consumeText();
      nameToken = tryConsume(NAME);
      regexpOrWildcardToken = tryConsumeRegexpOrWildcard(nameToken);
      const suffix = consumeText();
      consumeRequired(CLOSE);
      const modifierToken = tryConsumeModifier();
      addPart(prefix, nameToken, regexpOrWildcardToken, suffix, modifierToken);
      continue;
    }
    maybeAddPartFromPendingFixedValue();
    consumeRequired(END);
  }
  return parts;
}

// -- 2.3 Converting part lists ---------------------------------------------------------------

/** Generate a regular expression and name list. */
function generateRegexpAndNameList(parts, options) {
  let result = "^";
  const names = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const modifier = MODIFIER_STRINGS[part.modifier];
    if (part.type === FIXED_TEXT) {
      if (part.modifier === NONE) result += escapeRegexpString(part.value);
      else result += `(?:${escapeRegexpString(part.value)})${modifier}`;
      continue;
    }
    ArrayPrototypePush(names, part.name);
    let regexpValue = part.value;
    if (part.type === SEGMENT_WILDCARD) regexpValue = generateSegmentWildcardRegexp(options);
    else if (part.type === FULL_WILDCARD) regexpValue = FULL_WILDCARD_REGEXP;
    const prefix = escapeRegexpString(part.prefix);
    const suffix = escapeRegexpString(part.suffix);
    if (part.prefix === "" && part.suffix === "") {
      if (part.modifier === NONE || part.modifier === OPTIONAL) {
        result += `(${regexpValue})${modifier}`;
      } else {
        result += `((?:${regexpValue})${modifier})`;
      }
      continue;
    }
    if (part.modifier === NONE || part.modifier === OPTIONAL) {
      result += `(?:${prefix}(${regexpValue})${suffix})${modifier}`;
      continue;
    }
    result += `(?:${prefix}((?:${regexpValue})(?:${suffix}${prefix}(?:${regexpValue}))*)${suffix})`;
    if (part.modifier === ZERO_OR_MORE) result += "?";
  }
  return { regexp: `${result}$`, names };
}

function isASCIIDigit(c) {
  return c !== undefined && c >= "0" && c <= "9";
}

/** The first code point of a non-empty string. */
function firstCodePoint(s) {
  return StringFromCodePoint(StringPrototypeCodePointAt(s, 0));
}

/** Generate a pattern string (the normalized pattern the getters return). */
function generatePatternString(parts, options) {
  let result = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const previous = i > 0 ? parts[i - 1] : null;
    const next = i < parts.length - 1 ? parts[i + 1] : null;
    const modifier = MODIFIER_STRINGS[part.modifier];
    if (part.type === FIXED_TEXT) {
      if (part.modifier === NONE) result += escapePatternString(part.value);
      else result += `{${escapePatternString(part.value)}}${modifier}`;
      continue;
    }
    const customName = !isASCIIDigit(part.name[0]);
    let needsGrouping = part.suffix !== "" || (part.prefix !== "" && part.prefix !== options.prefix);
    if (!needsGrouping && customName && part.type === SEGMENT_WILDCARD && part.modifier === NONE &&
        next !== null && next.prefix === "" && next.suffix === "") {
      if (next.type === FIXED_TEXT) {
        if (next.value !== "" && isValidNameCodePoint(firstCodePoint(next.value), false)) {
          needsGrouping = true;
        }
      } else if (isASCIIDigit(next.name[0])) {
        needsGrouping = true;
      }
    }
    if (!needsGrouping && part.prefix === "" && previous !== null && previous.type === FIXED_TEXT &&
        previous.value !== "" && previous.value[previous.value.length - 1] === options.prefix) {
      needsGrouping = true;
    }
    if (needsGrouping) result += "{";
    result += escapePatternString(part.prefix);
    if (customName) result += `:${part.name}`;
    if (part.type === PART_REGEXP) {
      result += `(${part.value})`;
    } else if (part.type === SEGMENT_WILDCARD && !customName) {
      result += `(${generateSegmentWildcardRegexp(options)})`;
    } else if (part.type === FULL_WILDCARD) {
      if (!customName && (previous === null || previous.type === FIXED_TEXT ||
          previous.modifier !== NONE || needsGrouping || part.prefix !== "")) {
        result += "*";
      } else {
        result += `(${FULL_WILDCARD_REGEXP})`;
      }
    }
    if (part.type === SEGMENT_WILDCARD && customName && part.suffix !== "" &&
        isValidNameCodePoint(firstCodePoint(part.suffix), false)) {
      result += "\\";
    }
    result += escapePatternString(part.suffix);
    if (needsGrouping) result += "}";
    result += modifier;
  }
  return result;
}

// -- Components --------------------------------------------------------------------------------

const SPECIAL_SCHEMES = ["ftp", "file", "http", "https", "ws", "wss"];

const NON_ASCII = /[^\x00-\x7f]/;
const ASCII_LETTERS = /[a-z]/gi;
const caseClass = (c) => `[${StringPrototypeToLowerCase(c)}${StringPrototypeToUpperCase(c)}]`;

/**
 * The standard compiles a component's regexp with the "v" flag ("vi" to ignore case). Its
 * segment wildcards backtrack polynomially on a hostile input ("/:a-:b-:c-:d.:e" against
 * "/" and 400 dashes: seconds of CPU), and V8 switches to its linear-time engine after too
 * many backtracks (V8_FLAGS, isolate_worker/v8.py) only for a regexp without the u, v and i
 * flags. Without regexp groups a component's regexp is ASCII (its text is canonicalized:
 * percent-encoded, punycode) and matched against the URL parser's ASCII output, where those
 * flags change no match: it is compiled without them, ignoring case by a class per letter.
 */
function compileRegexp(source, ignoreCase, hasRegexpGroups) {
  if (hasRegexpGroups || RegExpPrototypeExec(NON_ASCII, source) !== null) {
    return new RegExpCtor(source, ignoreCase ? "vi" : "v");
  }
  if (ignoreCase) source = StringPrototypeReplace(source, ASCII_LETTERS, caseClass);
  return new RegExpCtor(source, "");
}

/** Compile a component: { patternString, regexp, names, hasRegexpGroups }. */
function compileComponent(input, encodingCallback, options) {
  const parts = parsePatternString(input, options, encodingCallback);
  const { regexp, names } = generateRegexpAndNameList(parts, options);
  let hasRegexpGroups = false;
  for (let i = 0; i < parts.length; i++) if (parts[i].type === PART_REGEXP) hasRegexpGroups = true;
  let compiled;
  try {
    compiled = compileRegexp(regexp, options.ignoreCase, hasRegexpGroups);
  } catch (e) {
    throw typeError(`invalid pattern "${input}": ${e.message}`);
  }
  return {
    __proto__: null,
    patternString: generatePatternString(parts, options),
    regexp: compiled,
    names,
    hasRegexpGroups,
  };
}

function protocolComponentMatchesSpecialScheme(component) {
  for (let i = 0; i < SPECIAL_SCHEMES.length; i++) {
    if (RegExpPrototypeExec(component.regexp, SPECIAL_SCHEMES[i]) !== null) return true;
  }
  return false;
}

// -- 4.x Canonicalization (encoding callbacks) -------------------------------------------------

function canonicalize(kind) {
  return (value, scheme = undefined) => {
    if (value === "") return value;
    const result = urlInternals.canonicalizeComponent(kind, value, scheme);
    if (result === null) throw typeError(`invalid ${kind} "${value}".`);
    return result;
  };
}

const canonicalizeProtocol = canonicalize("protocol");
const canonicalizeUsername = canonicalize("username");
const canonicalizePassword = canonicalize("password");
const canonicalizeHostname = canonicalize("hostname");
const canonicalizePort = canonicalize("port");
const canonicalizeOpaquePathname = canonicalize("opaque pathname");
const canonicalizeSearch = canonicalize("search");
const canonicalizeHash = canonicalize("hash");

function canonicalizePathname(value) {
  if (value === "") return value;
  const leadingSlash = value[0] === "/";
  const modified = leadingSlash ? value : `/-${value}`;
  const result = urlInternals.canonicalizeComponent("pathname", modified);
  if (result === null) throw typeError(`invalid pathname "${value}".`);
  return leadingSlash ? result : StringPrototypeSlice(result, 2);
}

const IPV6_HOSTNAME_CHAR = /^[0-9a-fA-F[\]:]$/;

function canonicalizeIPv6Hostname(value) {
  let result = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (RegExpPrototypeExec(IPV6_HOSTNAME_CHAR, c) === null) throw typeError(`invalid IPv6 hostname "${value}".`);
    result += StringPrototypeToLowerCase(c);
  }
  return result;
}

function hostnamePatternIsAnIPv6Address(input) {
  if (input.length < 2) return false;
  return input[0] === "[" || ((input[0] === "{" || input[0] === "\\") && input[1] === "[");
}

// -- 3 Constructor strings -------------------------------------------------------------------

const COMPONENTS = ["protocol", "username", "password", "hostname", "port", "pathname", "search", "hash"];

/** Parse a constructor string into a URLPatternInit-like record. */
function parseConstructorString(input) {
  const tokens = tokenize(input, false);
  const result = { __proto__: null };
  let componentStart = 0;
  let tokenIndex = 0;
  let tokenIncrement = 1;
  let groupDepth = 0;
  let ipv6BracketDepth = 0;
  let protocolMatchesSpecialScheme = false;
  let state = "init";

  const safeToken = (i) => (i < tokens.length ? tokens[i] : tokens[tokens.length - 1]);
  const isNonSpecialPatternChar = (i, value) => {
    const token = safeToken(i);
    if (token.value !== value) return false;
    return token.type === CHAR || token.type === ESCAPED_CHAR || token.type === INVALID_CHAR;
  };
  const isSearchPrefix = () => {
    if (isNonSpecialPatternChar(tokenIndex, "?")) return true;
    if (tokens[tokenIndex].value !== "?") return false;
    if (tokenIndex - 1 < 0) return true;
    const previous = safeToken(tokenIndex - 1);
    return !(previous.type === NAME || previous.type === REGEXP || previous.type === CLOSE ||
      previous.type === ASTERISK);
  };
  const makeComponentString = () => {
    const token = tokens[tokenIndex];
    const start = safeToken(componentStart).index;
    return StringPrototypeSlice(input, start, token.index);
  };
  const rewind = () => {
    tokenIndex = componentStart;
    tokenIncrement = 0;
  };
  const rewindAndSetState = (newState) => {
    rewind();
    state = newState;
  };
  const inList = (value, list) => {
    for (let i = 0; i < list.length; i++) if (list[i] === value) return true;
    return false;
  };
  const changeState = (newState, skip) => {
    if (state !== "init" && state !== "authority" && state !== "done") {
      result[state] = makeComponentString();
    }
    if (state !== "init" && newState !== "done") {
      const beforeHost = inList(state, ["protocol", "authority", "username", "password"]);
      if (beforeHost && inList(newState, ["port", "pathname", "search", "hash"]) &&
          result.hostname === undefined) {
        result.hostname = "";
      }
      const beforePath = beforeHost || state === "hostname" || state === "port";
      if (beforePath && (newState === "search" || newState === "hash") &&
          result.pathname === undefined) {
        result.pathname = protocolMatchesSpecialScheme ? "/" : "";
      }
      if ((beforePath || state === "pathname") && newState === "hash" &&
          result.search === undefined) {
        result.search = "";
      }
    }
    state = newState;
    tokenIndex += skip;
    componentStart = tokenIndex;
    tokenIncrement = 0;
  };
  const computeProtocolMatchesSpecialScheme = () => {
    const component = compileComponent(makeComponentString(), canonicalizeProtocol, DEFAULT_OPTIONS);
    if (protocolComponentMatchesSpecialScheme(component)) protocolMatchesSpecialScheme = true;
  };

  while (tokenIndex < tokens.length) {
    tokenIncrement = 1;
    const token = tokens[tokenIndex];
    if (token.type === END) {
      if (state === "init") {
        rewind();
        if (isNonSpecialPatternChar(tokenIndex, "#")) changeState("hash", 1);
        else if (isSearchPrefix()) changeState("search", 1);
        else changeState("pathname", 0);
        tokenIndex += tokenIncrement;
        continue;
      }
      if (state === "authority") {
        rewindAndSetState("hostname");
        tokenIndex += tokenIncrement;
        continue;
      }
      changeState("done", 0);
      break;
    }
    if (token.type === OPEN) {
      groupDepth++;
      tokenIndex += tokenIncrement;
      continue;
    }
    if (groupDepth > 0) {
      if (token.type === CLOSE) {
        groupDepth--;
      } else {
        tokenIndex += tokenIncrement;
        continue;
      }
    }
    switch (state) {
      case "init":
        if (isNonSpecialPatternChar(tokenIndex, ":")) rewindAndSetState("protocol");
        break;
      case "protocol":
        if (isNonSpecialPatternChar(tokenIndex, ":")) {
          computeProtocolMatchesSpecialScheme();
          let nextState = "pathname";
          let skip = 1;
          if (isNonSpecialPatternChar(tokenIndex + 1, "/") &&
              isNonSpecialPatternChar(tokenIndex + 2, "/")) {
            nextState = "authority";
            skip = 3;
          } else if (protocolMatchesSpecialScheme) {
            nextState = "authority";
          }
          changeState(nextState, skip);
        }
        break;
      case "authority":
        if (isNonSpecialPatternChar(tokenIndex, "@")) {
          rewindAndSetState("username");
        } else if (isNonSpecialPatternChar(tokenIndex, "/") || isSearchPrefix() ||
            isNonSpecialPatternChar(tokenIndex, "#")) {
          rewindAndSetState("hostname");
        }
        break;
      case "username":
        if (isNonSpecialPatternChar(tokenIndex, ":")) changeState("password", 1);
        else if (isNonSpecialPatternChar(tokenIndex, "@")) changeState("hostname", 1);
        break;
      case "password":
        if (isNonSpecialPatternChar(tokenIndex, "@")) changeState("hostname", 1);
        break;
      case "hostname":
        if (isNonSpecialPatternChar(tokenIndex, "[")) ipv6BracketDepth++;
        else if (isNonSpecialPatternChar(tokenIndex, "]")) ipv6BracketDepth--;
        else if (isNonSpecialPatternChar(tokenIndex, ":") && ipv6BracketDepth === 0) changeState("port", 1);
        else if (isNonSpecialPatternChar(tokenIndex, "/")) changeState("pathname", 0);
        else if (isSearchPrefix()) changeState("search", 1);
        else if (isNonSpecialPatternChar(tokenIndex, "#")) changeState("hash", 1);
        break;
      case "port":
        if (isNonSpecialPatternChar(tokenIndex, "/")) changeState("pathname", 0);
        else if (isSearchPrefix()) changeState("search", 1);
        else if (isNonSpecialPatternChar(tokenIndex, "#")) changeState("hash", 1);
        break;
      case "pathname":
        if (isSearchPrefix()) changeState("search", 1);
        else if (isNonSpecialPatternChar(tokenIndex, "#")) changeState("hash", 1);
        break;
      case "search":
        if (isNonSpecialPatternChar(tokenIndex, "#")) changeState("hash", 1);
        break;
      default: // hash
        break;
    }
    tokenIndex += tokenIncrement;
  }
  if (result.hostname !== undefined && result.port === undefined) result.port = "";
  return result;
}

// -- 4 URLPatternInit processing ---------------------------------------------------------------

function processBaseURLString(input, type) {
  return type === "pattern" ? escapePatternString(input) : input;
}

function isAbsolutePathname(input, type) {
  if (input === "") return false;
  if (input[0] === "/") return true;
  if (type === "url") return false;
  if (input.length < 2) return false;
  return (input[0] === "\\" || input[0] === "{") && input[1] === "/";
}

function hasAny(init, keys) {
  for (let i = 0; i < keys.length; i++) if (init[keys[i]] !== undefined) return true;
  return false;
}

/** Process a URLPatternInit: `type` is "pattern" or "url"; `result` holds the defaults. */
function processInit(init, type, result) {
  let baseURL = null;
  if (init.baseURL !== undefined) {
    baseURL = urlInternals.parse(init.baseURL);
    if (baseURL === null) throw typeError(`invalid baseURL "${init.baseURL}".`);
    if (init.protocol === undefined) result.protocol = processBaseURLString(baseURL.scheme, type);
    if (type !== "pattern" && !hasAny(init, ["protocol", "hostname", "port", "username"])) {
      result.username = processBaseURLString(baseURL.username, type);
    }
    if (type !== "pattern" && !hasAny(init, ["protocol", "hostname", "port", "username", "password"])) {
      result.password = processBaseURLString(baseURL.password, type);
    }
    if (!hasAny(init, ["protocol", "hostname"])) {
      result.hostname = processBaseURLString(baseURL.host ?? "", type);
    }
    if (!hasAny(init, ["protocol", "hostname", "port"])) {
      result.port = baseURL.port === null ? "" : `${baseURL.port}`;
    }
    if (!hasAny(init, ["protocol", "hostname", "port", "pathname"])) {
      result.pathname = processBaseURLString(urlInternals.serializePath(baseURL), type);
    }
    if (!hasAny(init, ["protocol", "hostname", "port", "pathname", "search"])) {
      result.search = processBaseURLString(baseURL.query ?? "", type);
    }
    if (!hasAny(init, ["protocol", "hostname", "port", "pathname", "search", "hash"])) {
      result.hash = processBaseURLString(baseURL.fragment ?? "", type);
    }
  }
  const pattern = type === "pattern";
  if (init.protocol !== undefined) {
    let value = init.protocol;
    if (value[value.length - 1] === ":") value = StringPrototypeSlice(value, 0, -1);
    result.protocol = pattern ? value : canonicalizeProtocol(value);
  }
  if (init.username !== undefined) {
    result.username = pattern ? init.username : canonicalizeUsername(init.username);
  }
  if (init.password !== undefined) {
    result.password = pattern ? init.password : canonicalizePassword(init.password);
  }
  if (init.hostname !== undefined) {
    result.hostname = pattern ? init.hostname : canonicalizeHostname(init.hostname);
  }
  if (init.port !== undefined) {
    result.port = pattern ? init.port : canonicalizePort(init.port, result.protocol);
  }
  if (init.pathname !== undefined) {
    result.pathname = init.pathname;
    if (baseURL !== null && typeof baseURL.path !== "string" &&
        !isAbsolutePathname(result.pathname, type)) {
      const basePath = processBaseURLString(urlInternals.serializePath(baseURL), type);
      const slash = StringPrototypeLastIndexOf(basePath, "/");
      if (slash !== -1) result.pathname = StringPrototypeSlice(basePath, 0, slash + 1) + result.pathname;
    }
    if (!pattern) {
      const protocol = result.protocol;
      result.pathname = protocol === "" || urlInternals.isSpecialScheme(protocol)
        ? canonicalizePathname(result.pathname)
        : canonicalizeOpaquePathname(result.pathname);
    }
  }
  if (init.search !== undefined) {
    let value = init.search;
    if (value[0] === "?") value = StringPrototypeSlice(value, 1);
    result.search = pattern ? value : canonicalizeSearch(value);
  }
  if (init.hash !== undefined) {
    let value = init.hash;
    if (value[0] === "#") value = StringPrototypeSlice(value, 1);
    result.hash = pattern ? value : canonicalizeHash(value);
  }
  return result;
}

// -- 1 The URLPattern class ------------------------------------------------------------------

const initMembers = [];
for (let i = 0; i < COMPONENTS.length; i++) {
  ArrayPrototypePush(initMembers, { key: COMPONENTS[i], converter: converters.USVString });
}
ArrayPrototypePush(initMembers, { key: "baseURL", converter: converters.USVString });
const convertInit = webidl.createDictionaryConverter("URLPatternInit", initMembers);
const convertOptions = webidl.createDictionaryConverter("URLPatternOptions", [
  { key: "ignoreCase", converter: converters.boolean, defaultValue: false },
]);

/** (USVString or URLPatternInit): a string, or a converted dictionary. */
function convertInput(value, prefix, context) {
  if (value === undefined || value === null || typeof value === "object" || typeof value === "function") {
    return convertInit(value, prefix, context);
  }
  return converters.USVString(value, prefix, context);
}

class URLPattern {
  #components;

  constructor(input = undefined, baseURL = undefined, options = undefined) {
    const prefix = "Failed to construct 'URLPattern'";
    // Overloads: (input, baseURL, options) and (input, options).
    if (arguments.length < 3 && (baseURL === undefined || baseURL === null ||
        typeof baseURL === "object" || typeof baseURL === "function")) {
      options = baseURL;
      baseURL = undefined;
    } else {
      baseURL = converters.USVString(baseURL, prefix, "Argument 2");
    }
    input = convertInput(input, prefix, "Argument 1");
    options = convertOptions(options, prefix, "Argument 3");
    let init;
    if (typeof input === "string") {
      init = parseConstructorString(input);
      if (baseURL === undefined && init.protocol === undefined) {
        throw typeError(`a relative pattern "${input}" needs a baseURL.`);
      }
      if (baseURL !== undefined) init.baseURL = baseURL;
    } else {
      if (baseURL !== undefined) throw typeError("a baseURL cannot be given with a URLPatternInit.");
      init = input;
    }
    const processed = processInit(init, "pattern", { __proto__: null });
    for (let i = 0; i < COMPONENTS.length; i++) {
      if (processed[COMPONENTS[i]] === undefined) processed[COMPONENTS[i]] = "*";
    }
    if (urlInternals.isSpecialScheme(processed.protocol) &&
        processed.port === `${urlInternals.defaultPort(processed.protocol)}`) {
      processed.port = "";
    }
    const components = { __proto__: null };
    components.protocol = compileComponent(processed.protocol, canonicalizeProtocol, DEFAULT_OPTIONS);
    components.username = compileComponent(processed.username, canonicalizeUsername, DEFAULT_OPTIONS);
    components.password = compileComponent(processed.password, canonicalizePassword, DEFAULT_OPTIONS);
    components.hostname = compileComponent(processed.hostname,
      hostnamePatternIsAnIPv6Address(processed.hostname) ? canonicalizeIPv6Hostname : canonicalizeHostname,
      HOSTNAME_OPTIONS);
    components.port = compileComponent(processed.port, canonicalizePort, DEFAULT_OPTIONS);
    const ignoreCase = options.ignoreCase;
    const compileOptions = { __proto__: null, delimiter: "", prefix: "", ignoreCase };
    if (protocolComponentMatchesSpecialScheme(components.protocol)) {
      components.pathname = compileComponent(processed.pathname, canonicalizePathname,
        { __proto__: null, delimiter: "/", prefix: "/", ignoreCase });
    } else {
      components.pathname = compileComponent(processed.pathname, canonicalizeOpaquePathname,
        compileOptions);
    }
    components.search = compileComponent(processed.search, canonicalizeSearch, compileOptions);
    components.hash = compileComponent(processed.hash, canonicalizeHash, compileOptions);
    this.#components = components;
  }

  static #of(self, member) {
    if (self === null || typeof self !== "object" || !(#components in self)) {
      throw new TypeErrorCtor(`Failed to execute '${member}' on 'URLPattern': Illegal invocation`);
    }
    return self.#components;
  }

  test(input = undefined, baseURL = undefined) {
    const components = URLPattern.#of(this, "test");
    return match(components, input, baseURL, arguments.length >= 2, "test") !== null;
  }

  exec(input = undefined, baseURL = undefined) {
    const components = URLPattern.#of(this, "exec");
    return match(components, input, baseURL, arguments.length >= 2, "exec");
  }

  get protocol() {
    return URLPattern.#of(this, "protocol").protocol.patternString;
  }

  get username() {
    return URLPattern.#of(this, "username").username.patternString;
  }

  get password() {
    return URLPattern.#of(this, "password").password.patternString;
  }

  get hostname() {
    return URLPattern.#of(this, "hostname").hostname.patternString;
  }

  get port() {
    return URLPattern.#of(this, "port").port.patternString;
  }

  get pathname() {
    return URLPattern.#of(this, "pathname").pathname.patternString;
  }

  get search() {
    return URLPattern.#of(this, "search").search.patternString;
  }

  get hash() {
    return URLPattern.#of(this, "hash").hash.patternString;
  }

  get hasRegExpGroups() {
    const components = URLPattern.#of(this, "hasRegExpGroups");
    for (let i = 0; i < COMPONENTS.length; i++) {
      if (components[COMPONENTS[i]].hasRegexpGroups) return true;
    }
    return false;
  }
}

webidl.configureInterface(URLPattern);

/** Match: a URLPatternResult, or null. */
function match(components, input, baseURLString, hasBaseURL, method) {
  const prefix = `Failed to execute '${method}' on 'URLPattern'`;
  input = convertInput(input, prefix, "Argument 1");
  if (hasBaseURL && baseURLString !== undefined) {
    baseURLString = converters.USVString(baseURLString, prefix, "Argument 2");
  } else {
    baseURLString = undefined;
  }
  const values = { __proto__: null };
  const inputs = [input];
  if (typeof input !== "string") {
    if (baseURLString !== undefined) {
      throw typeError("a baseURL cannot be given with a URLPatternInit.");
    }
    const defaults = { __proto__: null };
    for (let i = 0; i < COMPONENTS.length; i++) defaults[COMPONENTS[i]] = "";
    let applied;
    try {
      applied = processInit(input, "url", defaults);
    } catch {
      return null;
    }
    for (let i = 0; i < COMPONENTS.length; i++) values[COMPONENTS[i]] = applied[COMPONENTS[i]];
    inputs[0] = initToObject(input);
  } else {
    let base = null;
    if (baseURLString !== undefined) {
      base = urlInternals.parse(baseURLString);
      if (base === null) return null;
      ArrayPrototypePush(inputs, baseURLString);
    }
    const url = urlInternals.parse(input, base);
    if (url === null) return null;
    values.protocol = url.scheme;
    values.username = url.username;
    values.password = url.password;
    values.hostname = url.host ?? "";
    values.port = url.port === null ? "" : `${url.port}`;
    values.pathname = urlInternals.serializePath(url);
    values.search = url.query ?? "";
    values.hash = url.fragment ?? "";
  }
  const execResults = { __proto__: null };
  for (let i = 0; i < COMPONENTS.length; i++) {
    const name = COMPONENTS[i];
    const result = RegExpPrototypeExec(components[name].regexp, values[name]);
    if (result === null) return null;
    execResults[name] = result;
  }
  const result = { inputs };
  for (let i = 0; i < COMPONENTS.length; i++) {
    const name = COMPONENTS[i];
    ObjectDefineProperty(result, name, {
      value: componentMatchResult(components[name], values[name], execResults[name]),
      writable: true, enumerable: true, configurable: true,
    });
  }
  return result;
}

function initToObject(init) {
  const out = {};
  for (let i = 0; i < initMembers.length; i++) {
    const key = initMembers[i].key;
    if (init[key] !== undefined) out[key] = init[key];
  }
  return out;
}

/** Create a component match result: { input, groups }. */
function componentMatchResult(component, input, execResult) {
  const groups = {};
  // Only the groups the pattern itself names: named groups written inside a regexp group
  // ("(?<x>a)") are also captures of execResult but have no entry in the name list.
  for (let i = 1; i <= component.names.length; i++) {
    ObjectDefineProperty(groups, component.names[i - 1], {
      value: execResult[i], writable: true, enumerable: true, configurable: true,
    });
  }
  return { input, groups };
}

internals.exposeGlobal("URLPattern", URLPattern);
// For tests of the compiled regexps (tests/js/url/urlpattern-regexp.test.js).
internals.urlPattern = { __proto__: null, compileComponent };
