# pans_inference (eval/): the multi-scale test-time protocol and its four anomaly scores, checkpoint
# loading, the pictures and the loop of infer_pans, and the split evaluation of eval_pans
# --checkpoint. It uses pans_eval's anomaly metrics and .npy writer, so include this file after
# pans_eval is defined.
add_library(pans_inference
  ${CMAKE_CURRENT_LIST_DIR}/image_inference.cpp ${CMAKE_CURRENT_LIST_DIR}/model_loading.cpp
  ${CMAKE_CURRENT_LIST_DIR}/multiscale.cpp ${CMAKE_CURRENT_LIST_DIR}/progress.cpp
  ${CMAKE_CURRENT_LIST_DIR}/split_evaluation.cpp ${CMAKE_CURRENT_LIST_DIR}/visualize.cpp)
target_link_libraries(pans_inference PUBLIC pans_checkpoint pans_metrics pans_models pans_dist pans_eval)
