# Loaded by WSGIImportScript at process start: leaves a marker module in
# sys.modules (seen by apps in the same interpreter) and appends
# "<pid> <time>" to STATE_DIR/preload.log.
import os
import sys
import time
import types

_marker = types.ModuleType("__wsgi_test_preload__")
_marker.pid = os.getpid()
_marker.time = time.time()
sys.modules["__wsgi_test_preload__"] = _marker

_state = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "state")
with open(os.path.join(_state, "preload.log"), "a") as f:
    f.write("%d %.6f\n" % (_marker.pid, _marker.time))
