/* The reuse stage's sequential inner loops in C: the aligner's `align._chain` and the patience sort of
 * `align._monotone`, the word scan of `shingles._scan`, the word diff of `edits/diff.py` and the headline-list
 * test of `refine.furniture`.
 *
 * Each function here is a line-for-line translation of the Python reference it names, which stays beside its
 * caller: the Python runs wherever this module was not built, and tests/test_kernels.py checks that both give the
 * same result on random and real inputs. Arrays cross as int64 buffers (numpy arrays, C-contiguous); results are
 * written into a buffer the caller allocates, so this file needs no numpy headers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int get_i64(PyObject *obj, Py_buffer *view, int writable, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) return -1;
    if (view->itemsize != 8 || view->ndim != 1 || !view->format ||
        (view->format[0] != 'q' && view->format[0] != 'l') || view->format[1] != '\0') {
        PyErr_Format(PyExc_TypeError, "%s: expected a 1-d int64 array", name);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static void release(Py_buffer *views, int n) {
    for (int k = 0; k < n; k++) PyBuffer_Release(&views[k]);
}

typedef struct {
    int64_t reach_c, low_s, reach_s, diag, id;
} OpenChain;

/* chain(c0, c1, s0, s1, out, gap, drift) -> number of chains; out[i] = chain of seed i (align._chain). */
static PyObject *chain(PyObject *self, PyObject *args) {
    PyObject *o[5];
    long long gap, drift;
    if (!PyArg_ParseTuple(args, "OOOOOLL", &o[0], &o[1], &o[2], &o[3], &o[4], &gap, &drift)) return NULL;
    Py_buffer v[5];
    static const char *names[5] = {"c0", "c1", "s0", "s1", "out"};
    int got = 0;
    for (; got < 5; got++) {
        if (get_i64(o[got], &v[got], got == 4, names[got]) < 0) goto fail;
    }
    Py_ssize_t n = v[0].len / 8;
    for (int k = 1; k < 5; k++) {
        if (v[k].len / 8 != n) {
            PyErr_SetString(PyExc_ValueError, "chain: arrays of different lengths");
            goto fail;
        }
    }
    const int64_t *c0s = v[0].buf, *c1s = v[1].buf, *s0s = v[2].buf, *s1s = v[3].buf;
    int64_t *out = v[4].buf;
    /* at most one chain opens per seed */
    OpenChain *open = PyMem_Malloc(sizeof(OpenChain) * (n ? n : 1));
    if (!open) {
        PyErr_NoMemory();
        goto fail;
    }
    Py_ssize_t n_open = 0;
    int64_t n_chains = 0, last_c0 = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t c0 = c0s[i], c1 = c1s[i], s0 = s0s[i], s1 = s1s[i], d = s0 - c0;
        if (c0 != last_c0) { /* close the chains the copy position has moved past, keeping their order */
            Py_ssize_t w = 0;
            for (Py_ssize_t r = 0; r < n_open; r++) {
                if (c0 - open[r].reach_c <= gap) open[w++] = open[r];
            }
            n_open = w;
            last_c0 = c0;
        }
        Py_ssize_t best = -1;
        int64_t best_dd = drift + 1, lo_s = s0 - gap, hi_s = s1 + gap;
        for (Py_ssize_t r = 0; r < n_open; r++) {
            int64_t dd = d - open[r].diag;
            if (dd < 0) dd = -dd;
            if (dd < best_dd && open[r].reach_s >= lo_s && open[r].low_s <= hi_s) {
                best = r;
                best_dd = dd;
                if (!dd) break;
            }
        }
        if (best < 0) {
            out[i] = n_chains;
            open[n_open].reach_c = c1;
            open[n_open].low_s = s0;
            open[n_open].reach_s = s1;
            open[n_open].diag = d;
            open[n_open].id = n_chains++;
            n_open++;
        } else {
            OpenChain *b = &open[best];
            out[i] = b->id;
            if (c1 > b->reach_c) b->reach_c = c1;
            if (s0 < b->low_s) b->low_s = s0;
            if (s1 > b->reach_s) b->reach_s = s1;
            b->diag = d;
        }
    }
    PyMem_Free(open);
    release(v, 5);
    return PyLong_FromLongLong(n_chains);
fail:
    release(v, got);
    return NULL;
}

/* monotone(c, s, out) -> length: the points of the chosen chain, as indices in order, in out[0:length]. The
 * points come sorted by (c ascending, s descending), as align._monotone sorts them. */
static PyObject *monotone(PyObject *self, PyObject *args) {
    PyObject *o[3];
    if (!PyArg_ParseTuple(args, "OOO", &o[0], &o[1], &o[2])) return NULL;
    Py_buffer v[3];
    static const char *names[3] = {"c", "s", "out"};
    int got = 0;
    for (; got < 3; got++) {
        if (get_i64(o[got], &v[got], got == 2, names[got]) < 0) goto fail;
    }
    Py_ssize_t n = v[0].len / 8;
    if (v[1].len / 8 != n || v[2].len / 8 < n) {
        PyErr_SetString(PyExc_ValueError, "monotone: arrays of different lengths");
        goto fail;
    }
    const int64_t *cs = v[0].buf, *ss = v[1].buf;
    int64_t *out = v[2].buf;
    /* one allocation: tails, tail_at, prev, length */
    int64_t *mem = PyMem_Malloc(sizeof(int64_t) * 4 * (n ? n : 1));
    if (!mem) {
        PyErr_NoMemory();
        goto fail;
    }
    int64_t *tails = mem, *tail_at = mem + n, *prev = mem + 2 * n, *length = mem + 3 * n;
    Py_ssize_t n_tails = 0;
    int64_t longest = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t sv = ss[i];
        /* bisect_right(tails, sv) */
        Py_ssize_t lo = 0, hi = n_tails;
        while (lo < hi) {
            Py_ssize_t mid = (lo + hi) / 2;
            if (sv < tails[mid]) hi = mid;
            else lo = mid + 1;
        }
        Py_ssize_t k = lo;
        tails[k] = sv;
        tail_at[k] = i;
        if (k == n_tails) n_tails++;
        prev[i] = k ? tail_at[k - 1] : -1;
        length[i] = k + 1;
        if (k + 1 > longest) longest = k + 1;
    }
    /* the first longest chain whose last step bends least (align._bend) */
    Py_ssize_t pick = -1;
    int64_t least = -1;
    for (Py_ssize_t j = 0; j < n; j++) {
        if (length[j] != longest) continue;
        int64_t bend = 0;
        if (prev[j] >= 0) {
            int64_t p = prev[j];
            bend = (ss[j] - cs[j]) - (ss[p] - cs[p]);
            if (bend < 0) bend = -bend;
        }
        if (pick < 0 || bend < least) {
            pick = j;
            least = bend;
        }
    }
    Py_ssize_t len = 0;
    for (Py_ssize_t i = pick; i >= 0; i = prev[i]) len++;
    Py_ssize_t w = len;
    for (Py_ssize_t i = pick; i >= 0; i = prev[i]) out[--w] = i;
    PyMem_Free(mem);
    release(v, 3);
    return PyLong_FromSsize_t(len);
fail:
    release(v, got);
    return NULL;
}

/* A buffer of 1-d integers of `itemsize` bytes, any signedness (numpy's uint16/uint32/int8/int64/uint64). */
static int get_ints(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, int writable, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) return -1;
    const char *f = view->format;
    if (view->itemsize != itemsize || view->ndim != 1 || !f || !f[0] || f[1] != '\0' || !strchr("bBhHiIlLqQ", f[0])) {
        PyErr_Format(PyExc_TypeError, "%s: expected a 1-d array of %zd-byte integers", name, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static inline uint64_t mix64(uint64_t h) { /* shingles._mix: the splitmix64 finaliser */
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBULL;
    return h ^ (h >> 31);
}

#define CP_MULT 0xFFFFFFFFFFFFFFC5ULL /* shingles._CP_MULT */
#define APOS 0x27

static uint64_t CP_POW[64]; /* CP_MULT ** k, filled at import */

enum { SCAN_UNKNOWN = -1, SCAN_UNFOLDABLE = -2, SCAN_BEYOND = -3 };

/* The folded code point at i and its class (1 word character, 0 not), or a SCAN_ code to return. With `lower`
 * (uint16 input only), the code unit is folded through it; a surrogate or the Greek capital sigma cannot be. */
#define CLASS_AT(i, c, t)                                                                                         \
    do {                                                                                                         \
        uint32_t raw_ = cp16 ? (uint32_t)cp16[i] : cp32[i];                                                     \
        if (lower) {                                                                                            \
            if (raw_ - 0xD800u < 0x800u || raw_ == 0x3A3u) return SCAN_UNFOLDABLE;                               \
            raw_ = lower[raw_];                                                                                 \
        }                                                                                                       \
        if (raw_ >= (uint32_t)n_table) return SCAN_BEYOND;                                                      \
        (c) = raw_;                                                                                             \
        (t) = table[raw_];                                                                                      \
        if ((t) < 0) return SCAN_UNKNOWN;                                                                       \
    } while (0)

static Py_ssize_t scan_core(const uint16_t *cp16, const uint32_t *cp32, Py_ssize_t n, const int8_t *table,
                            Py_ssize_t n_table, const uint16_t *lower, int64_t *starts, int64_t *ends,
                            uint64_t *hashes) {
    Py_ssize_t i = 0, nw = 0;
    uint32_t c;
    int t;
    while (i < n) {
        CLASS_AT(i, c, t);
        if (t != 1) { /* a word starts at a word character only: a joining apostrophe follows one */
            i++;
            continue;
        }
        Py_ssize_t start = i, k = 0;
        uint64_t h = 0, pw = 1;
        for (;;) {
            /* position i is in the word, with folded code point c */
            if (k < 64) {
                h += (uint64_t)c * CP_POW[k];
            } else {
                if (k == 64) pw = CP_POW[63] * CP_MULT;
                h += (uint64_t)c * pw;
                pw *= CP_MULT;
            }
            k++;
            if (++i >= n) break;
            CLASS_AT(i, c, t);
            if (t == 1) continue;
            /* an apostrophe joins when a word character follows (the one before it is one: we are in a word) */
            if (c == APOS && i + 1 < n) {
                uint32_t c2;
                int t2;
                CLASS_AT(i + 1, c2, t2);
                if (t2 == 1) continue;
            }
            break;
        }
        starts[nw] = start;
        ends[nw] = i;
        hashes[nw++] = mix64(h + (uint64_t)(i - start));
    }
    return nw;
}

/* scan_words(cp, table, lower, starts, ends, hashes) -> number of words, or -1 when a code point's entry in
 * `table` is still -1 (not looked up: the caller fills the table and calls again), or -2 when `lower` was given
 * and the text holds a code unit it cannot fold (a surrogate, the Greek capital sigma: the caller folds the text
 * itself). `cp`: code units (uint16) or code points (uint32); `lower`: None, or for uint16 input a uint16 table of
 * 65,536 entries folding each code unit (shingles._lower_table); `table`: int8, code point -> 1 word character,
 * 0 not. A word is a run of word characters, an apostrophe between two word characters joining it; its hash is
 * the polynomial sum(c[k] * CP_MULT**k) plus its length, finalised: exactly what shingles._scan_words_np computes
 * with prefix sums. Output buffers hold at least (len(cp) + 1) / 2 entries. */
static PyObject *scan_words(PyObject *self, PyObject *args) {
    PyObject *o[6];
    if (!PyArg_ParseTuple(args, "OOOOOO", &o[0], &o[1], &o[5], &o[2], &o[3], &o[4])) return NULL;
    Py_buffer v[6];
    int got = 0;
    if (PyObject_GetBuffer(o[0], &v[0], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    got = 1;
    if (v[0].ndim != 1 || (v[0].itemsize != 2 && v[0].itemsize != 4)) {
        PyErr_SetString(PyExc_TypeError, "cp: expected a 1-d array of uint16 or uint32 code points");
        goto fail;
    }
    static const char *names[4] = {"table", "starts", "ends", "hashes"};
    for (; got < 5; got++) {
        if (get_ints(o[got], &v[got], got == 1 ? 1 : 8, got > 1, names[got - 1]) < 0) goto fail;
    }
    const uint16_t *lower = NULL;
    if (o[5] != Py_None) {
        if (get_ints(o[5], &v[5], 2, 0, "lower") < 0) goto fail;
        got = 6;
        if (v[5].len / 2 != 0x10000 || v[0].itemsize != 2) {
            PyErr_SetString(PyExc_ValueError, "scan_words: lower folds uint16 code units, 65,536 of them");
            goto fail;
        }
        lower = v[5].buf;
    }
    Py_ssize_t n = v[0].len / v[0].itemsize, cap = (n + 1) / 2;
    if (v[2].len / 8 < cap || v[3].len / 8 < cap || v[4].len / 8 < cap) {
        PyErr_SetString(PyExc_ValueError, "scan_words: output arrays shorter than (len(cp) + 1) / 2");
        goto fail;
    }
    Py_ssize_t nw = scan_core(v[0].itemsize == 2 ? v[0].buf : NULL, v[0].itemsize == 4 ? v[0].buf : NULL, n,
                              v[1].buf, v[1].len, lower, v[2].buf, v[3].buf, v[4].buf);
    release(v, got);
    if (nw == SCAN_BEYOND) {
        PyErr_SetString(PyExc_ValueError, "scan_words: a code point beyond the table");
        return NULL;
    }
    return PyLong_FromSsize_t(nw);
fail:
    release(v, got);
    return NULL;
}

#define NGRAM_MULT 0x9E3779B97F4A7C15ULL /* shingles._MULT */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* One document's rows: its word n-gram hashes (shingles.ngram_hashes), the minimum of every window of `window`
 * of them (or of all, when fewer: shingles._winnow_batch), distinct and sorted as int64 (_sorted_distinct). */
static Py_ssize_t doc_rows(const uint64_t *wh, Py_ssize_t n_words, int ngram, int window, uint64_t *sh,
                           int64_t *kept, int32_t doc, int32_t *docs_out, int64_t *keys_out, Py_ssize_t at) {
    Py_ssize_t n_sh = n_words - ngram + 1, nk = 0;
    if (n_sh < 1) return at;
    for (Py_ssize_t i = 0; i < n_sh; i++) {
        uint64_t h = wh[i];
        for (int k = 1; k < ngram; k++) h = h * NGRAM_MULT + wh[i + k];
        sh[i] = mix64(h);
    }
    if (n_sh >= window) {
        for (Py_ssize_t j = 0; j + window <= n_sh; j++) {
            uint64_t m = sh[j];
            for (int k = 1; k < window; k++)
                if (sh[j + k] < m) m = sh[j + k];
            if (!nk || (uint64_t)kept[nk - 1] != m) kept[nk++] = (int64_t)m;
        }
    } else {
        uint64_t m = sh[0];
        for (Py_ssize_t j = 1; j < n_sh; j++)
            if (sh[j] < m) m = sh[j];
        kept[nk++] = (int64_t)m;
    }
    qsort(kept, (size_t)nk, sizeof(int64_t), cmp_i64);
    for (Py_ssize_t k = 0; k < nk; k++) {
        if (k && kept[k] == kept[k - 1]) continue;
        docs_out[at] = doc;
        keys_out[at++] = kept[k];
    }
    return at;
}

/* shingle_rows(cp, table, lower, base, n, window, docs, keys) -> number of rows, or -1 / -2 as scan_words.
 * `cp` holds the texts joined by a separator, text d starting at base[d] (int64); the rows are
 * shingles.shingle_rows' of those texts: (doc, key) sorted by doc and key, keys distinct per doc. Output buffers
 * hold at least (len(cp) + 1) / 2 entries (int32 docs, int64 keys). */
static PyObject *shingle_rows(PyObject *self, PyObject *args) {
    PyObject *o[7];
    int ngram, window;
    if (!PyArg_ParseTuple(args, "OOOOiiOO", &o[0], &o[1], &o[6], &o[2], &ngram, &window, &o[3], &o[4]))
        return NULL;
    if (ngram < 1 || window < 1) {
        PyErr_SetString(PyExc_ValueError, "shingle_rows: n and window must be at least 1");
        return NULL;
    }
    Py_buffer v[7];
    int got = 0;
    if (PyObject_GetBuffer(o[0], &v[0], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    got = 1;
    if (v[0].ndim != 1 || (v[0].itemsize != 2 && v[0].itemsize != 4)) {
        PyErr_SetString(PyExc_TypeError, "cp: expected a 1-d array of uint16 or uint32 code points");
        goto fail;
    }
    static const char *names[4] = {"table", "base", "docs", "keys"};
    static const Py_ssize_t sizes[4] = {1, 8, 4, 8};
    for (; got < 5; got++) {
        if (get_ints(o[got], &v[got], sizes[got - 1], got > 2, names[got - 1]) < 0) goto fail;
    }
    const uint16_t *lower = NULL;
    if (o[6] != Py_None) {
        if (get_ints(o[6], &v[5], 2, 0, "lower") < 0) goto fail;
        got = 6;
        if (v[5].len / 2 != 0x10000 || v[0].itemsize != 2) {
            PyErr_SetString(PyExc_ValueError, "shingle_rows: lower folds uint16 code units, 65,536 of them");
            goto fail;
        }
        lower = v[5].buf;
    }
    Py_ssize_t n = v[0].len / v[0].itemsize, cap = (n + 1) / 2, n_docs = v[2].len / 8;
    if (v[3].len / 4 < cap || v[4].len / 8 < cap) {
        PyErr_SetString(PyExc_ValueError, "shingle_rows: output arrays shorter than (len(cp) + 1) / 2");
        goto fail;
    }
    const int64_t *base = v[2].buf;
    /* the words of the batch, then one document's worth of scratch reused for each */
    int64_t *mem = PyMem_Malloc(sizeof(int64_t) * 5 * (cap + 1));
    if (!mem) {
        PyErr_NoMemory();
        goto fail;
    }
    int64_t *starts = mem, *ends = mem + (cap + 1);
    uint64_t *wh = (uint64_t *)(mem + 2 * (cap + 1)), *sh = (uint64_t *)(mem + 3 * (cap + 1));
    int64_t *kept = mem + 4 * (cap + 1);
    Py_ssize_t nw, rows;
    Py_BEGIN_ALLOW_THREADS /* buffers only from here: other threads (ingest's commit, the articles writer) run */
    nw = scan_core(v[0].itemsize == 2 ? v[0].buf : NULL, v[0].itemsize == 4 ? v[0].buf : NULL, n, v[1].buf,
                   v[1].len, lower, starts, ends, wh);
    rows = nw;
    if (nw >= 0) {
        int32_t *docs_out = v[3].buf;
        int64_t *keys_out = v[4].buf;
        rows = 0;
        Py_ssize_t w = 0;
        for (Py_ssize_t d = 0; d < n_docs; d++) {
            int64_t end = d + 1 < n_docs ? base[d + 1] : (int64_t)n;
            Py_ssize_t first = w;
            while (w < nw && starts[w] < end) w++;
            rows = doc_rows(wh + first, w - first, ngram, window, sh, kept, (int32_t)d, docs_out, keys_out, rows);
        }
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(mem);
    release(v, got);
    if (rows == SCAN_BEYOND) {
        PyErr_SetString(PyExc_ValueError, "shingle_rows: a code point beyond the table");
        return NULL;
    }
    return PyLong_FromSsize_t(rows);
fail:
    release(v, got);
    return NULL;
}

/* repeated(keys, out) -> how many keys occur more than once; out[i] = 1 where keys[i] does (int64 keys; a uint8
 * out, such as a bool array viewed as uint8). One pass through an open-addressing table of 1.5 slots a key: what
 * candidates.shared_rows otherwise learns by sorting every key. */
static PyObject *repeated(PyObject *self, PyObject *args) {
    PyObject *o[2];
    if (!PyArg_ParseTuple(args, "OO", &o[0], &o[1])) return NULL;
    Py_buffer v[2];
    int got = 0;
    if (get_i64(o[0], &v[0], 0, "keys") < 0) return NULL;
    got = 1;
    if (get_ints(o[1], &v[1], 1, 1, "out") < 0) goto fail;
    got = 2;
    Py_ssize_t n = v[0].len / 8;
    if (v[1].len < n) {
        PyErr_SetString(PyExc_ValueError, "repeated: out shorter than keys");
        goto fail;
    }
    const int64_t *keys = v[0].buf;
    uint8_t *out = v[1].buf;
    Py_ssize_t size = n + n / 2 + 16, marked = 0;
    int64_t *slot_key = PyMem_Malloc(sizeof(int64_t) * size);
    uint8_t *slot_count = PyMem_Calloc((size_t)size, 1);
    if (!slot_key || !slot_count) {
        PyMem_Free(slot_key);
        PyMem_Free(slot_count);
        PyErr_NoMemory();
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    for (int pass = 0; pass < 2; pass++) {
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t k = keys[i];
            /* the slot: the high half of a 128-bit product maps the mixed key onto 0..size-1 */
            Py_ssize_t s = (Py_ssize_t)(((unsigned __int128)mix64((uint64_t)k) * (uint64_t)size) >> 64);
            while (slot_count[s] && slot_key[s] != k) {
                if (++s == size) s = 0;
            }
            if (pass == 0) {
                slot_key[s] = k;
                if (slot_count[s] < 2) slot_count[s]++;
            } else {
                out[i] = slot_count[s] > 1;
                marked += out[i];
            }
        }
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(slot_key);
    PyMem_Free(slot_count);
    release(v, 2);
    return PyLong_FromSsize_t(marked);
fail:
    release(v, got);
    return NULL;
}

/* ---- the word diff of edits/diff.py (`diff_opcodes`) over int64 word ids ------------------------------------ */

typedef struct {
    int64_t *blocks; /* (i, j, n) triples, in order */
    Py_ssize_t n_blocks, cap;
    const int64_t *a, *b;
    /* scratch for the unique-word table and difflib's rows, sized for the whole input */
    int64_t *keys;
    int64_t *info; /* per slot: count in a, last position in a, count in b, last position in b */
    Py_ssize_t n_slots;
    int64_t *pairs; /* (i, j) of words unique on both sides */
    int64_t *tails, *tail_at, *prev;
    int64_t *row0, *row1;
} Diff;

static int add_block(Diff *d, int64_t i, int64_t j, int64_t n) {
    if (d->n_blocks == d->cap) {
        Py_ssize_t cap = d->cap * 2 + 16;
        int64_t *grown = PyMem_Realloc(d->blocks, sizeof(int64_t) * 3 * cap);
        if (!grown) return -1;
        d->blocks = grown;
        d->cap = cap;
    }
    int64_t *t = d->blocks + 3 * d->n_blocks++;
    t[0] = i;
    t[1] = j;
    t[2] = n;
    return 0;
}

static int diff_range(Diff *d, int64_t a0, int64_t a1, int64_t b0, int64_t b1);

/* difflib.SequenceMatcher(None, a[a0:a1], b[b0:b1], autojunk=False).get_matching_blocks(): the longest match
 * (earliest in a, then in b), then the same on each side of it. Without junk, find_longest_match's extension
 * loops never extend, so the dynamic programme alone gives its answer. */
static int difflib_blocks(Diff *d, int64_t a0, int64_t a1, int64_t b0, int64_t b1) {
    if (a0 >= a1 || b0 >= b1) return 0;
    const int64_t *a = d->a, *b = d->b;
    int64_t nb = b1 - b0, best_i = a0, best_j = b0, best = 0;
    int64_t *prev_row = d->row0, *row = d->row1;
    for (int64_t j = 0; j <= nb; j++) prev_row[j] = 0;
    for (int64_t i = a0; i < a1; i++) {
        int64_t ai = a[i];
        row[0] = 0;
        for (int64_t j = b0; j < b1; j++) {
            int64_t k = ai == b[j] ? prev_row[j - b0] + 1 : 0;
            row[j - b0 + 1] = k;
            if (k > best) {
                best = k;
                best_i = i - k + 1;
                best_j = j - k + 1;
            }
        }
        int64_t *t = prev_row;
        prev_row = row;
        row = t;
    }
    if (!best) return 0;
    if (difflib_blocks(d, a0, best_i, b0, best_j) < 0) return -1;
    if (add_block(d, best_i, best_j, best) < 0) return -1;
    return difflib_blocks(d, best_i + best, a1, best_j + best, b1);
}

static inline Py_ssize_t slot_of(const Diff *d, int64_t key) {
    uint64_t h = mix64((uint64_t)key);
    Py_ssize_t mask = d->n_slots - 1, s = (Py_ssize_t)(h & (uint64_t)mask);
    while (d->info[4 * s] + d->info[4 * s + 2] && d->keys[s] != key) s = (s + 1) & mask;
    return s;
}

/* diff.py's _middle: anchors on the words unique on both sides (longest increasing run), the gaps between them
 * diffed again; without anchors, difflib on a gap of at most 40,000 cells, else one replacement. */
static int middle(Diff *d, int64_t a0, int64_t a1, int64_t b0, int64_t b1) {
    const int64_t *a = d->a, *b = d->b;
    /* the table: a power of two at least twice the words of the range */
    Py_ssize_t want = 2 * ((a1 - a0) + (b1 - b0)), slots = 16;
    while (slots < want) slots *= 2;
    if (slots > d->n_slots) {
        PyErr_SetString(PyExc_RuntimeError, "diff: table too small");
        return -1;
    }
    Py_ssize_t saved = d->n_slots;
    d->n_slots = slots;
    memset(d->info, 0, sizeof(int64_t) * 4 * slots);
    for (int64_t i = a0; i < a1; i++) {
        Py_ssize_t s = slot_of(d, a[i]);
        d->keys[s] = a[i];
        d->info[4 * s]++;
        d->info[4 * s + 1] = i;
    }
    for (int64_t j = b0; j < b1; j++) {
        Py_ssize_t s = slot_of(d, b[j]);
        d->keys[s] = b[j];
        d->info[4 * s + 2]++;
        d->info[4 * s + 3] = j;
    }
    /* pairs sorted by their position in a: walk a in order, each unique word once */
    Py_ssize_t n_pairs = 0;
    for (int64_t i = a0; i < a1; i++) {
        Py_ssize_t s = slot_of(d, a[i]);
        if (d->info[4 * s] == 1 && d->info[4 * s + 2] == 1) {
            d->pairs[2 * n_pairs] = i;
            d->pairs[2 * n_pairs + 1] = d->info[4 * s + 3];
            n_pairs++;
        }
    }
    d->n_slots = saved;
    if (n_pairs) {
        /* _lis: bisect_left on the tails, earliest-found predecessor links */
        Py_ssize_t n_tails = 0;
        for (Py_ssize_t k = 0; k < n_pairs; k++) {
            int64_t bv = d->pairs[2 * k + 1];
            Py_ssize_t lo = 0, hi = n_tails;
            while (lo < hi) {
                Py_ssize_t mid = (lo + hi) / 2;
                if (d->tails[mid] < bv) lo = mid + 1;
                else hi = mid;
            }
            d->tails[lo] = bv;
            d->tail_at[lo] = k;
            if (lo == n_tails) n_tails++;
            d->prev[k] = lo ? d->tail_at[lo - 1] : -1;
        }
        Py_ssize_t n_anchors = 0;
        for (int64_t k = d->tail_at[n_tails - 1]; k >= 0; k = d->prev[k]) n_anchors++;
        /* the anchors in a buffer of this call's own: the gaps' calls below reuse the shared scratch */
        int64_t *anchors = PyMem_Malloc(sizeof(int64_t) * 2 * n_anchors);
        if (!anchors) return -1;
        Py_ssize_t w = n_anchors;
        for (int64_t k = d->tail_at[n_tails - 1]; k >= 0; k = d->prev[k]) {
            w--;
            anchors[2 * w] = d->pairs[2 * k];
            anchors[2 * w + 1] = d->pairs[2 * k + 1];
        }
        int64_t ca = a0, cb = b0;
        int failed = 0;
        for (Py_ssize_t k = 0; k < n_anchors && !failed; k++) {
            int64_t i = anchors[2 * k], j = anchors[2 * k + 1];
            if (i < ca || j < cb) continue;
            if (diff_range(d, ca, i, cb, j) < 0) {
                failed = 1;
                break;
            }
            int64_t n = 1;
            while (i + n < a1 && j + n < b1 && a[i + n] == b[j + n]) n++;
            failed = add_block(d, i, j, n) < 0;
            ca = i + n;
            cb = j + n;
        }
        PyMem_Free(anchors);
        return failed ? -1 : diff_range(d, ca, a1, cb, b1);
    }
    if ((a1 - a0) * (b1 - b0) <= 40000) return difflib_blocks(d, a0, a1, b0, b1);
    return 0;
}

/* diff.py's _diff: common prefix, the middle, common suffix. */
static int diff_range(Diff *d, int64_t a0, int64_t a1, int64_t b0, int64_t b1) {
    const int64_t *a = d->a, *b = d->b;
    int64_t n = 0;
    while (a0 + n < a1 && b0 + n < b1 && a[a0 + n] == b[b0 + n]) n++;
    if (n) {
        if (add_block(d, a0, b0, n) < 0) return -1;
        a0 += n;
        b0 += n;
    }
    int64_t m = 0;
    while (a1 - m > a0 && b1 - m > b0 && a[a1 - m - 1] == b[b1 - m - 1]) m++;
    a1 -= m;
    b1 -= m;
    if (a0 < a1 && b0 < b1 && middle(d, a0, a1, b0, b1) < 0) return -1;
    if (m && add_block(d, a1, b1, m) < 0) return -1;
    return 0;
}

/* diff_blocks(a, b) -> list of (i, j, n): diff.py's matching blocks of two int64 arrays, adjacent ones merged
 * (what `diff_opcodes` turns into opcodes). */
static PyObject *diff_blocks(PyObject *self, PyObject *args) {
    PyObject *o[2];
    if (!PyArg_ParseTuple(args, "OO", &o[0], &o[1])) return NULL;
    Py_buffer v[2];
    static const char *names[2] = {"a", "b"};
    int got = 0;
    for (; got < 2; got++) {
        if (get_i64(o[got], &v[got], 0, names[got]) < 0) goto fail;
    }
    Py_ssize_t na = v[0].len / 8, nb = v[1].len / 8, total = na + nb;
    Py_ssize_t slots = 16;
    while (slots < 2 * total) slots *= 2;
    Diff d = {0};
    d.a = v[0].buf;
    d.b = v[1].buf;
    d.n_slots = slots;
    Py_ssize_t rows = (nb + 1 > 201 ? nb + 1 : 201); /* difflib rows: at most 40,000 cells, so nb + 1 suffices */
    d.keys = PyMem_Malloc(sizeof(int64_t) * slots);
    d.info = PyMem_Malloc(sizeof(int64_t) * 4 * slots);
    d.pairs = PyMem_Malloc(sizeof(int64_t) * 2 * (na + 1));
    d.tails = PyMem_Malloc(sizeof(int64_t) * (na + 1));
    d.tail_at = PyMem_Malloc(sizeof(int64_t) * (na + 1));
    d.prev = PyMem_Malloc(sizeof(int64_t) * (na + 1));
    d.row0 = PyMem_Malloc(sizeof(int64_t) * rows);
    d.row1 = PyMem_Malloc(sizeof(int64_t) * rows);
    PyObject *result = NULL;
    if (!d.keys || !d.info || !d.pairs || !d.tails || !d.tail_at || !d.prev || !d.row0 || !d.row1) {
        PyErr_NoMemory();
    } else if (diff_range(&d, 0, na, 0, nb) == 0) {
        result = PyList_New(0);
        Py_ssize_t k = 0;
        while (result && k < d.n_blocks) {
            int64_t i = d.blocks[3 * k], j = d.blocks[3 * k + 1], n = d.blocks[3 * k + 2];
            for (k++; k < d.n_blocks && i + n == d.blocks[3 * k] && j + n == d.blocks[3 * k + 1]; k++)
                n += d.blocks[3 * k + 2];
            PyObject *t = Py_BuildValue("(LLL)", (long long)i, (long long)j, (long long)n);
            if (!t || PyList_Append(result, t) < 0) Py_CLEAR(result);
            Py_XDECREF(t);
        }
    } else if (!PyErr_Occurred()) {
        PyErr_NoMemory();
    }
    PyMem_Free(d.blocks);
    PyMem_Free(d.keys);
    PyMem_Free(d.info);
    PyMem_Free(d.pairs);
    PyMem_Free(d.tails);
    PyMem_Free(d.tail_at);
    PyMem_Free(d.prev);
    PyMem_Free(d.row0);
    PyMem_Free(d.row1);
    release(v, 2);
    return result;
fail:
    release(v, got);
    return NULL;
}

/* furniture(text, run, max_words, headline_words, wrapped_search) -> [(start, end)]: refine.furniture's headline
 * lists, in one pass over the code points. The regexes of the reference become direct tests: `\s` and str.strip
 * are Py_UNICODE_ISSPACE, `\b` is Py_UNICODE_ISALNUM or '_'. Only the case-insensitive test of a line's last
 * word (refine._WRAPPED) is left to `wrapped_search` when that word holds a non-ASCII code point, whose case
 * folding the regex engine knows and this file does not. */
static const char *const FUNCTION_WORDS[] = {
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with", "that",
    "than", "after", "before", "is", "are", "was", "were", "has", "have", "had", "its", "their", "his", "her", NULL};

static inline int is_list_end(Py_UCS4 ch) { return ch == '.' || ch == ';' || ch == ':' || ch == ',' || ch == 0x2026; }
static inline int is_closer(Py_UCS4 ch) {
    return ch == '"' || ch == '\'' || ch == 0x201D || ch == 0x2019 || ch == ')' || ch == ']';
}
static inline int is_opener(Py_UCS4 ch) {
    return ch == '"' || ch == 0x201C || ch == 0x2018 || ch == '\'' || ch == '(';
}
static inline int is_word_char(Py_UCS4 ch) { return Py_UNICODE_ISALNUM(ch) || ch == '_'; }

/* Whether the stripped line text[s:r] ends in a function word, as `_WRAPPED.search(line.rstrip()[-8:])`:
 * 1 or 0, or -1 on error. */
static int ends_wrapped(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t r, PyObject *search) {
    Py_ssize_t ts = r - 8 > s ? r - 8 : s;
    for (Py_ssize_t k = (r - 6 > ts ? r - 6 : ts); k < r; k++) {
        if (PyUnicode_READ(kind, data, k) >= 128) {
            PyObject *tail = PyUnicode_Substring(text, ts, r);
            if (!tail) return -1;
            PyObject *found = PyObject_CallOneArg(search, tail);
            Py_DECREF(tail);
            if (!found) return -1;
            int hit = found != Py_None;
            Py_DECREF(found);
            return hit;
        }
    }
    for (const char *const *w = FUNCTION_WORDS; *w; w++) {
        Py_ssize_t len = (Py_ssize_t)strlen(*w), at = r - len;
        if (at < ts) continue;
        Py_ssize_t k = 0;
        while (k < len) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, at + k);
            if (ch >= 'A' && ch <= 'Z') ch += 'a' - 'A';
            if (ch != (Py_UCS4)(*w)[k]) break;
            k++;
        }
        if (k == len && (at == ts || !is_word_char(PyUnicode_READ(kind, data, at - 1)))) return 1;
    }
    return 0;
}

static PyObject *furniture(PyObject *self, PyObject *args) {
    PyObject *text, *search;
    Py_ssize_t run, max_words, headline_words;
    if (!PyArg_ParseTuple(args, "UnnnO", &text, &run, &max_words, &headline_words, &search)) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    Py_ssize_t cur_start = -1, cur_end = -1, n_cur = 0, long_lines = 0;
    for (Py_ssize_t s = 0; s <= n;) {
        Py_ssize_t e = s, spaces = 0;
        while (e < n) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, e);
            if (ch == '\n') break;
            spaces += ch == ' ';
            e++;
        }
        Py_ssize_t r = e;  /* the line without its trailing whitespace */
        while (r > s && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, r - 1))) r--;
        if (r > s) {  /* a blank line neither joins nor breaks a list */
            Py_ssize_t words = spaces + 1;
            Py_UCS4 last = PyUnicode_READ(kind, data, r - 1);
            int open_end = !is_list_end(last);
            if (open_end && is_closer(last)) {
                Py_ssize_t k = r - 1;
                while (k >= s && is_closer(PyUnicode_READ(kind, data, k))) k--;
                open_end = !(k >= s && is_list_end(PyUnicode_READ(kind, data, k)));
            }
            int starts = 0;
            if (words <= max_words && open_end) {
                Py_ssize_t k = s;
                while (k < e && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, k))) k++;
                if (k < e && is_opener(PyUnicode_READ(kind, data, k))) k++;
                if (k < e) {
                    Py_UCS4 ch = PyUnicode_READ(kind, data, k);
                    starts = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
                }
            }
            int listed = 0;
            if (starts) {
                int wrapped = ends_wrapped(text, kind, data, s, r, search);
                if (wrapped < 0) goto fail;
                listed = !wrapped;
            }
            if (listed) {
                if (n_cur == 0) cur_start = s;
                cur_end = e;
                n_cur++;
                long_lines += words >= headline_words;
            } else {
                if (n_cur >= run && long_lines >= run) {
                    PyObject *span = Py_BuildValue("(nn)", cur_start, cur_end);
                    if (!span || PyList_Append(out, span) < 0) { Py_XDECREF(span); goto fail; }
                    Py_DECREF(span);
                }
                n_cur = long_lines = 0;
            }
        }
        s = e + 1;
    }
    if (n_cur >= run && long_lines >= run) {
        PyObject *span = Py_BuildValue("(nn)", cur_start, cur_end);
        if (!span || PyList_Append(out, span) < 0) { Py_XDECREF(span); goto fail; }
        Py_DECREF(span);
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"chain", chain, METH_VARARGS, "chain(c0, c1, s0, s1, out, gap, drift) -> number of chains (align._chain)"},
    {"monotone", monotone, METH_VARARGS, "monotone(c, s, out) -> length (align._monotone's patience sort)"},
    {"shingle_rows", shingle_rows, METH_VARARGS,
     "shingle_rows(cp, table, lower, base, n, window, docs, keys) -> number of rows (shingles.shingle_rows)"},
    {"repeated", repeated, METH_VARARGS, "repeated(keys, out) -> number of keys that occur more than once"},
    {"diff_blocks", diff_blocks, METH_VARARGS, "diff_blocks(a, b) -> [(i, j, n)]: edits/diff.py's matching blocks"},
    {"furniture", furniture, METH_VARARGS,
     "furniture(text, run, max_words, headline_words, wrapped_search) -> [(start, end)] (refine.furniture)"},
    {"scan_words", scan_words, METH_VARARGS,
     "scan_words(cp, table, lower, starts, ends, hashes) -> number of words; -1: a code point not in the table "
     "yet; -2: a code unit `lower` cannot fold"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", "The reuse stage's inner loops in C.", -1, methods};

PyMODINIT_FUNC PyInit__kernels(void) {
    CP_POW[0] = 1;
    for (int k = 1; k < 64; k++) CP_POW[k] = CP_POW[k - 1] * CP_MULT;
    return PyModule_Create(&module);
}
