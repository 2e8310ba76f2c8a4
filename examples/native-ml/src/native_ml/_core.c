/* native_ml._core: the compiled kernels. _fallback.py has the same functions in Python. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int as_doubles(PyObject *seq, const char *what, PyObject **fast) {
    *fast = PySequence_Fast(seq, what);
    return *fast == NULL ? -1 : 0;
}

/* dot(a, b): the sum of a[i] * b[i] over two equally long sequences of numbers. */
static PyObject *dot(PyObject *self, PyObject *args) {
    PyObject *a, *b, *fa, *fb;
    if (!PyArg_ParseTuple(args, "OO:dot", &a, &b)) return NULL;
    if (as_doubles(a, "dot: a must be a sequence", &fa) < 0) return NULL;
    if (as_doubles(b, "dot: b must be a sequence", &fb) < 0) { Py_DECREF(fa); return NULL; }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fa);
    if (n != PySequence_Fast_GET_SIZE(fb)) {
        PyErr_Format(PyExc_ValueError, "dot: lengths differ (%zd and %zd)", n,
                     PySequence_Fast_GET_SIZE(fb));
        Py_DECREF(fa); Py_DECREF(fb);
        return NULL;
    }
    double total = 0.0;
    PyObject **ia = PySequence_Fast_ITEMS(fa), **ib = PySequence_Fast_ITEMS(fb);
    for (Py_ssize_t i = 0; i < n; i++) {
        double x = PyFloat_AsDouble(ia[i]), y = PyFloat_AsDouble(ib[i]);
        if (PyErr_Occurred()) { Py_DECREF(fa); Py_DECREF(fb); return NULL; }
        total += x * y;
    }
    Py_DECREF(fa); Py_DECREF(fb);
    return PyFloat_FromDouble(total);
}

static PyMethodDef methods[] = {
    {"dot", dot, METH_VARARGS, "dot(a, b) -> float: sum of a[i] * b[i]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "native_ml._core", NULL, -1, methods};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
