# bp-driver: pushes changes into the collector (feed protocol), or straight
# into Redis with the collector's EVALSHA, and measures the ingest rate and
# ack latency (bench/driver.c). Included from bench/CMakeLists.txt; the
# warning flags come from the top level.
add_executable(bp-driver ${CMAKE_CURRENT_LIST_DIR}/driver.c)
target_link_libraries(bp-driver PRIVATE bp_io PkgConfig::HIREDIS m)
