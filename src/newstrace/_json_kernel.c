/* `json_string(s)`: the JSON string literal of a str, as UTF-8 bytes, in one pass over its code points.
 *
 * The same bytes as `json.dumps(s, ensure_ascii=False)` encoded to UTF-8, with U+2028, U+2029 and U+0085 escaped
 * too (export.jsonl_line's rule: a line break inside a JSON Lines record breaks readers that split on them).
 * `export._json_string` is the reference; tests/test_export.py checks both give the same bytes. A str holding a
 * lone surrogate has no UTF-8 form: for it the function returns None and the caller takes the reference path.
 *
 * Articles are most of what a run writes; reading CPython's one-, two- or four-byte code points directly saves
 * the UTF-8 copy that orjson or str.encode would make of each text first.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static const char HEX[] = "0123456789abcdef";

static inline char *put_escape(char *o, Py_UCS4 ch) {
    *o++ = '\\';
    switch (ch) {
    case '"': *o++ = '"'; return o;
    case '\\': *o++ = '\\'; return o;
    case '\n': *o++ = 'n'; return o;
    case '\r': *o++ = 'r'; return o;
    case '\t': *o++ = 't'; return o;
    case '\b': *o++ = 'b'; return o;
    case '\f': *o++ = 'f'; return o;
    }
    *o++ = 'u';
    *o++ = HEX[(ch >> 12) & 15];
    *o++ = HEX[(ch >> 8) & 15];
    *o++ = HEX[(ch >> 4) & 15];
    *o++ = HEX[ch & 15];
    return o;
}

static inline char *put(char *o, Py_UCS4 ch) {
    if (ch < 0x80) {
        if (ch >= 0x20 && ch != '"' && ch != '\\') *o++ = (char)ch;
        else o = put_escape(o, ch);
    } else if (ch < 0x800) {
        if (ch == 0x85) return put_escape(o, ch);
        *o++ = (char)(0xC0 | (ch >> 6));
        *o++ = (char)(0x80 | (ch & 0x3F));
    } else if (ch < 0x10000) {
        if (ch == 0x2028 || ch == 0x2029) return put_escape(o, ch);
        *o++ = (char)(0xE0 | (ch >> 12));
        *o++ = (char)(0x80 | ((ch >> 6) & 0x3F));
        *o++ = (char)(0x80 | (ch & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (ch >> 18));
        *o++ = (char)(0x80 | ((ch >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((ch >> 6) & 0x3F));
        *o++ = (char)(0x80 | (ch & 0x3F));
    }
    return o;
}

/* One function per code point width, so the inner loops read their array directly. The buffer is sized for the
 * worst case (6 bytes a code point, an escape) and cut to what was written: one pass instead of two. */
#define LITERAL(NAME, TYPE)                                                            \
    static PyObject *NAME(const TYPE *cp, Py_ssize_t n) {                              \
        if (n > (PY_SSIZE_T_MAX - 2) / 6) return PyErr_NoMemory();                     \
        PyObject *out = PyBytes_FromStringAndSize(NULL, 6 * n + 2);                    \
        if (!out) return NULL;                                                         \
        char *start = PyBytes_AS_STRING(out), *o = start;                              \
        *o++ = '"';                                                                    \
        for (Py_ssize_t i = 0; i < n; i++) {                                           \
            Py_UCS4 ch = cp[i];                                                        \
            if (ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\') {                  \
                *o++ = (char)ch; /* most of any text */                                \
            } else if (ch >= 0xD800 && ch <= 0xDFFF) {                                 \
                Py_DECREF(out);                                                        \
                Py_RETURN_NONE;                                                        \
            } else {                                                                   \
                o = put(o, ch);                                                        \
            }                                                                          \
        }                                                                              \
        *o++ = '"';                                                                    \
        if (_PyBytes_Resize(&out, o - start) < 0) return NULL;                         \
        return out;                                                                    \
    }

LITERAL(literal_1, Py_UCS1)
LITERAL(literal_2, Py_UCS2)
LITERAL(literal_4, Py_UCS4)

static PyObject *json_string(PyObject *self, PyObject *s) {
    if (!PyUnicode_Check(s)) {
        PyErr_SetString(PyExc_TypeError, "json_string: expected a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    switch (PyUnicode_KIND(s)) {
    case PyUnicode_1BYTE_KIND: return literal_1(PyUnicode_1BYTE_DATA(s), n);
    case PyUnicode_2BYTE_KIND: return literal_2(PyUnicode_2BYTE_DATA(s), n);
    default: return literal_4(PyUnicode_4BYTE_DATA(s), n);
    }
}

static PyMethodDef methods[] = {
    {"json_string", json_string, METH_O,
     "json_string(s) -> bytes | None: the JSON literal of s in UTF-8, line breaks escaped (export._json_string); "
     "None for a lone surrogate"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_json_kernel", "JSON string literals in C.", -1, methods};

PyMODINIT_FUNC PyInit__json_kernel(void) { return PyModule_Create(&module); }
