# A user's own sitecustomize: the teye shim must run it.
import sys

USER_SITECUSTOMIZE = True
sys.stderr.write("user sitecustomize ran\n")
