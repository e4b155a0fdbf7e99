/* The aligner's sequential inner loops in C: `align._chain` and the patience sort of `align._monotone`.
 *
 * Each function here is a line-for-line translation of the Python reference it names, which stays in align.py:
 * the Python runs wherever this module was not built, and tests/test_kernels.py checks that both give the same
 * result on random and real inputs. Arrays cross as int64 buffers (numpy arrays, C-contiguous); results are
 * written into a buffer the caller allocates, so this file needs no numpy headers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

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

static PyMethodDef methods[] = {
    {"chain", chain, METH_VARARGS, "chain(c0, c1, s0, s1, out, gap, drift) -> number of chains (align._chain)"},
    {"monotone", monotone, METH_VARARGS, "monotone(c, s, out) -> length (align._monotone's patience sort)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", "The aligner's inner loops in C.", -1, methods};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
