/*
 * The fast entry of fastpart._core.partition: a METH_FASTCALL function that
 * answers partition(bytes_or_str, int) with the Java strategy itself and
 * hands every other call (other strategies, key types, errors) to the
 * Cython function _partition_full, so both paths give the same answers.
 */
#ifndef FASTPART_FASTCALL_H
#define FASTPART_FASTCALL_H

#include <Python.h>
#include "_kernels.h"

static PyObject *fp_full_partition = NULL;  /* _partition_full */

/* partition(key, num_partitions, *, strategy="java"): the fast entry. */
static PyObject *fp_partition_fast(PyObject *self, PyObject *const *args, Py_ssize_t nargsf,
                                   PyObject *kwnames) {
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    (void)self;
    if (nargs == 2 && kwnames == NULL && PyLong_CheckExact(args[1])) {
        int overflow = 0;
        long long n = PyLong_AsLongLongAndOverflow(args[1], &overflow);
        PyObject *key = args[0];
        if (overflow == 0 && n >= 1 && n <= 2147483647LL) {
            if (PyBytes_CheckExact(key)) {
                uint32_t h = fp_murmur2((const uint8_t *)PyBytes_AS_STRING(key),
                                        (size_t)PyBytes_GET_SIZE(key)) & 0x7fffffffU;
                return PyLong_FromLong((long)(h % (uint32_t)n));
            }
            if (PyUnicode_CheckExact(key)) {
                Py_ssize_t size;
                const char *p = PyUnicode_AsUTF8AndSize(key, &size);
                if (p != NULL) {
                    uint32_t h = fp_murmur2((const uint8_t *)p, (size_t)size) & 0x7fffffffU;
                    return PyLong_FromLong((long)(h % (uint32_t)n));
                }
                PyErr_Clear();
            }
        } else if (n == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        }
    }
    return PyObject_Vectorcall(fp_full_partition, args, nargsf, kwnames);
}

static PyMethodDef fp_partition_def = {
    "partition", (PyCFunction)(void (*)(void))fp_partition_fast, METH_FASTCALL | METH_KEYWORDS,
    "partition(key, num_partitions, /, *, strategy='java')\n--\n\n"
    "The partition a client picks for a keyed record.\n\n"
    "Args:\n"
    "    key: bytes-like (any byte buffer), str (UTF-8 as Java's StringSerializer), or None\n"
    "        (a keyless record). Typed values (int, float, UUID, dates, NumPy numbers, ...)\n"
    "        are a TypeError naming the fastpart.serde function that writes Java's bytes.\n"
    "    num_partitions: the topic's partition count, 1 to 2**31-1.\n"
    "    strategy: a name from fastpart.strategies(); \"java\" by default.\n\n"
    "Returns:\n"
    "    The partition, or -1 where the client decides without the key\n"
    "    (keyless records, random partitioners).\n\n"
    "Example:\n"
    "    >>> partition(b\"21\", 10)\n"
    "    0\n"
    "    >>> partition(None, 10)\n"
    "    -1\n"
};

static PyObject *fp_make_partition(PyObject *full, PyObject *module_name) {
    Py_INCREF(full);
    fp_full_partition = full;
    return PyCFunction_NewEx(&fp_partition_def, NULL, module_name);
}

#endif /* FASTPART_FASTCALL_H */
