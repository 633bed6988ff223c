/*
 * Runs a Python file in CPython embedded from the shared libpython, as
 * this module (and mod_wsgi) run it inside Apache and in daemon processes,
 * so that the same file can be timed against the `python3` executable
 * (which Gunicorn and Granian run in). bench/README.md quotes the results:
 *
 *   gcc -O2 bench/embedded_python.c $(/usr/bin/python3-config --includes) \
 *       $(/usr/bin/python3-config --ldflags --embed) -o /tmp/embedded_python
 *   taskset -c 1 /usr/bin/python3 bench/flask_loop.py
 *   taskset -c 1 /tmp/embedded_python bench/flask_loop.py
 */
#include <Python.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.py\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    Py_Initialize();
    int failed = PyRun_SimpleFile(f, argv[1]);
    fclose(f);
    Py_Finalize();
    return failed ? 1 : 0;
}
