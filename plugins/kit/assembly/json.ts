// A small JSON value type for plugins. Hand-written: the maintained AssemblyScript JSON
// libraries need a compiler transform, which troupe's permissionless compiler cannot load.

export enum JsonKind { Null, Bool, Num, Str, Arr, Obj }

export class Json {
  kind: JsonKind = JsonKind.Null;
  b: bool = false;
  n: f64 = 0;
  s: string = "";
  items: Json[] = [];
  keys: string[] = [];

  static null(): Json { return new Json(); }
  static bool(v: bool): Json { const j = new Json(); j.kind = JsonKind.Bool; j.b = v; return j; }
  static num(v: f64): Json { const j = new Json(); j.kind = JsonKind.Num; j.n = v; return j; }
  static str(v: string): Json { const j = new Json(); j.kind = JsonKind.Str; j.s = v; return j; }
  static arr(): Json { const j = new Json(); j.kind = JsonKind.Arr; return j; }
  static obj(): Json { const j = new Json(); j.kind = JsonKind.Obj; return j; }

  /** Parses text; returns null when it is not valid JSON. */
  static parse(text: string): Json | null {
    const p = new Parser(text);
    const v = p.value();
    p.ws();
    return v !== null && p.i == text.length ? v : null;
  }

  isNull(): bool { return this.kind == JsonKind.Null; }

  /** Member of an object (null when absent or not an object). */
  get(key: string): Json | null {
    if (this.kind != JsonKind.Obj) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) if (this.keys[i] == key) return this.items[i];
    return null;
  }
  /** Element of an array (null when out of range or not an array). */
  at(i: i32): Json | null {
    return this.kind == JsonKind.Arr && i >= 0 && i < this.items.length ? this.items[i] : null;
  }
  get length(): i32 { return this.items.length; }

  getString(key: string, otherwise: string = ""): string {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Str ? v.s : otherwise;
  }
  getNumber(key: string, otherwise: f64 = 0): f64 {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Num ? v.n : otherwise;
  }
  getBool(key: string, otherwise: bool = false): bool {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Bool ? v.b : otherwise;
  }

  set(key: string, v: Json): Json { this.keys.push(key); this.items.push(v); return this; }
  setString(key: string, v: string): Json { return this.set(key, Json.str(v)); }
  setNumber(key: string, v: f64): Json { return this.set(key, Json.num(v)); }
  setBool(key: string, v: bool): Json { return this.set(key, Json.bool(v)); }
  push(v: Json): Json { this.items.push(v); return this; }

  toString(): string {
    switch (this.kind) {
      case JsonKind.Null: return "null";
      case JsonKind.Bool: return this.b ? "true" : "false";
      case JsonKind.Num: {
        if (this.n == Math.floor(this.n) && Math.abs(this.n) < 9007199254740992) {
          return (<i64>this.n).toString();
        }
        return isFinite(this.n) ? this.n.toString() : "null";
      }
      case JsonKind.Str: return quote(this.s);
      case JsonKind.Arr: {
        const parts = new Array<string>();
        for (let i = 0; i < this.items.length; i++) parts.push(this.items[i].toString());
        return "[" + parts.join(",") + "]";
      }
      default: {
        const parts = new Array<string>();
        for (let i = 0; i < this.items.length; i++) {
          parts.push(quote(this.keys[i]) + ":" + this.items[i].toString());
        }
        return "{" + parts.join(",") + "}";
      }
    }
  }
}

export function quote(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 34) out += "\\\"";
    else if (c == 92) out += "\\\\";
    else if (c == 10) out += "\\n";
    else if (c == 13) out += "\\r";
    else if (c == 9) out += "\\t";
    else if (c < 32) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

class Parser {
  i: i32 = 0;
  constructor(public t: string) {}

  ws(): void {
    while (this.i < this.t.length) {
      const c = this.t.charCodeAt(this.i);
      if (c != 32 && c != 9 && c != 10 && c != 13) break;
      this.i++;
    }
  }

  value(): Json | null {
    this.ws();
    if (this.i >= this.t.length) return null;
    const c = this.t.charCodeAt(this.i);
    if (c == 123) return this.object();
    if (c == 91) return this.array();
    if (c == 34) {
      const s = this.string();
      return s === null ? null : Json.str(s);
    }
    if (this.t.startsWith("true", this.i)) { this.i += 4; return Json.bool(true); }
    if (this.t.startsWith("false", this.i)) { this.i += 5; return Json.bool(false); }
    if (this.t.startsWith("null", this.i)) { this.i += 4; return Json.null(); }
    return this.number();
  }

  number(): Json | null {
    const start = this.i;
    while (this.i < this.t.length) {
      const c = this.t.charCodeAt(this.i);
      if ((c >= 48 && c <= 57) || c == 45 || c == 43 || c == 46 || c == 101 || c == 69) this.i++;
      else break;
    }
    if (this.i == start) return null;
    const v = parseFloat(this.t.substring(start, this.i));
    return isNaN(v) ? null : Json.num(v);
  }

  string(): string | null {
    this.i++; // opening quote
    let out = "";
    while (this.i < this.t.length) {
      const c = this.t.charCodeAt(this.i++);
      if (c == 34) return out;
      if (c != 92) { out += String.fromCharCode(c); continue; }
      if (this.i >= this.t.length) return null;
      const e = this.t.charCodeAt(this.i++);
      if (e == 110) out += "\n";
      else if (e == 116) out += "\t";
      else if (e == 114) out += "\r";
      else if (e == 98) out += "\b";
      else if (e == 102) out += "\f";
      else if (e == 117) {
        if (this.i + 4 > this.t.length) return null;
        out += String.fromCharCode(<i32>parseInt(this.t.substring(this.i, this.i + 4), 16));
        this.i += 4;
      } else out += String.fromCharCode(e);
    }
    return null;
  }

  array(): Json | null {
    this.i++;
    const a = Json.arr();
    this.ws();
    if (this.i < this.t.length && this.t.charCodeAt(this.i) == 93) { this.i++; return a; }
    while (true) {
      const v = this.value();
      if (v === null) return null;
      a.push(v);
      this.ws();
      if (this.i >= this.t.length) return null;
      const c = this.t.charCodeAt(this.i++);
      if (c == 93) return a;
      if (c != 44) return null;
    }
    return null;
  }

  object(): Json | null {
    this.i++;
    const o = Json.obj();
    this.ws();
    if (this.i < this.t.length && this.t.charCodeAt(this.i) == 125) { this.i++; return o; }
    while (true) {
      this.ws();
      if (this.i >= this.t.length || this.t.charCodeAt(this.i) != 34) return null;
      const k = this.string();
      if (k === null) return null;
      this.ws();
      if (this.i >= this.t.length || this.t.charCodeAt(this.i++) != 58) return null;
      const v = this.value();
      if (v === null) return null;
      o.set(k, v);
      this.ws();
      if (this.i >= this.t.length) return null;
      const c = this.t.charCodeAt(this.i++);
      if (c == 125) return o;
      if (c != 44) return null;
    }
    return null;
  }
}
