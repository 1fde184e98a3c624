# pier-controller and its debugging companion pier-snapshot-dump. Included by
# controller/CMakeLists.txt after every part's library is defined.
add_executable(pier-snapshot-dump ${CMAKE_CURRENT_LIST_DIR}/tools/snapshot_dump.cc)
target_link_libraries(pier-snapshot-dump PRIVATE pier_proto pier_common gRPC::grpc++ OpenSSL::Crypto)

# Until translation lands (controller/src/translate) there is no controller to link.
if(TARGET pier_translate AND TARGET pier_server)
  add_executable(pier-controller ${CMAKE_CURRENT_LIST_DIR}/main.cc)
  target_link_libraries(pier-controller PRIVATE pier_server pier_sources pier_translate pier_model pier_proto pier_common)
  pier_link_allocator(pier-controller)
  # --source=cluster, once controller/src/kube provides it.
  if(TARGET pier_kube AND EXISTS ${CMAKE_CURRENT_LIST_DIR}/kube/cluster_source.h)
    target_link_libraries(pier-controller PRIVATE pier_kube pier_status)
    target_compile_definitions(pier-controller PRIVATE PIER_HAVE_CLUSTER_SOURCE=1)
  endif()
  # The controller's part of docs/metrics.md, from the same registrations as pier-controller.
  add_executable(pier-controller-metrics-catalog ${CMAKE_CURRENT_LIST_DIR}/tools/metrics_catalog.cc)
  target_link_libraries(pier-controller-metrics-catalog PRIVATE pier_server pier_sources pier_translate pier_common)
  if(TARGET pier_kube)
    target_link_libraries(pier-controller-metrics-catalog PRIVATE pier_kube)
    target_compile_definitions(pier-controller-metrics-catalog PRIVATE PIER_HAVE_CLUSTER_SOURCE=1)
  endif()
else()
  message(STATUS "pier-controller not built: pier_translate or pier_server is missing")
endif()

# CLI11 is header-only; its CMake package is optional on Debian.
if(TARGET CLI11::CLI11)
  target_link_libraries(pier-snapshot-dump PRIVATE CLI11::CLI11)
  if(TARGET pier-controller)
    target_link_libraries(pier-controller PRIVATE CLI11::CLI11)
  endif()
endif()
