// A small JSON reader for the tests and the example (the JVM has none
// built in): objects as maps, arrays as lists, numbers as Double.
package io.realface.support

object Json {
    fun parse(text: String): Any? {
        val p = Parser(text)
        val v = p.value()
        p.space()
        require(p.i == text.length) { "JSON: trailing text at ${p.i}" }
        return v
    }

    private class Parser(val s: String) {
        var i = 0

        fun space() {
            while (i < s.length && s[i].isWhitespace()) i++
        }

        fun value(): Any? {
            space()
            require(i < s.length) { "JSON: unexpected end" }
            return when (s[i]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> word("true", true)
                'f' -> word("false", false)
                'n' -> word("null", null)
                else -> num()
            }
        }

        fun word(w: String, v: Any?): Any? {
            require(s.startsWith(w, i)) { "JSON: bad literal at $i" }
            i += w.length
            return v
        }

        fun num(): Double {
            val start = i
            while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
            return s.substring(start, i).toDouble()
        }

        fun str(): String {
            val b = StringBuilder()
            i++
            while (true) {
                require(i < s.length) { "JSON: unterminated string" }
                val c = s[i++]
                when (c) {
                    '"' -> return b.toString()
                    '\\' -> {
                        val e = s[i++]
                        when (e) {
                            'n' -> b.append('\n')
                            't' -> b.append('\t')
                            'r' -> b.append('\r')
                            'b' -> b.append('\b')
                            'f' -> b.append('\u000c')
                            'u' -> {
                                b.append(s.substring(i, i + 4).toInt(16).toChar())
                                i += 4
                            }
                            else -> b.append(e)
                        }
                    }
                    else -> b.append(c)
                }
            }
        }

        fun arr(): List<Any?> {
            val out = ArrayList<Any?>()
            i++
            space()
            if (s[i] == ']') { i++; return out }
            while (true) {
                out.add(value())
                space()
                when (s[i++]) {
                    ',' -> continue
                    ']' -> return out
                    else -> error("JSON: expected , or ] at ${i - 1}")
                }
            }
        }

        fun obj(): Map<String, Any?> {
            val out = LinkedHashMap<String, Any?>()
            i++
            space()
            if (s[i] == '}') { i++; return out }
            while (true) {
                space()
                val k = str()
                space()
                require(s[i++] == ':') { "JSON: expected : at ${i - 1}" }
                out[k] = value()
                space()
                when (s[i++]) {
                    ',' -> continue
                    '}' -> return out
                    else -> error("JSON: expected , or } at ${i - 1}")
                }
            }
        }
    }
}

/** `o[key]` of a parsed object (null when `o` is not an object). */
operator fun Any?.get(key: String): Any? =
    (this as? Map<*, *>)?.entries?.firstOrNull { it.key == key }?.value
