# Warnings for teye's own targets. Applied per target so third-party code is not affected.
add_library(teye_warnings INTERFACE)
target_compile_options(teye_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wno-missing-field-initializers)
add_library(teye::warnings ALIAS teye_warnings)
