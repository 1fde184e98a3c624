# pier-dataplane: main only wires the parts together. The data path (pier_proxy) is built by
# src/listener; without it there is nothing to wire.
if(NOT TARGET pier_proxy)
  message(STATUS "pier-dataplane skipped: the pier_proxy library is not in this tree")
  return()
endif()
add_executable(pier-dataplane ${CMAKE_CURRENT_SOURCE_DIR}/src/main.cc)
target_include_directories(pier-dataplane PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
if(TARGET CLI11::CLI11)
  target_link_libraries(pier-dataplane PRIVATE CLI11::CLI11)
endif()
target_link_libraries(pier-dataplane PRIVATE
  pier_proxy pier_config_client pier_dataplane_admin pier_routing pier_common Threads::Threads)
pier_link_allocator(pier-dataplane)
