// The fuzz build compiles Debian's stb_image and stb_image_write headers itself instead of linking
// libstb, so that libFuzzer sees coverage inside the PNG decoder (and steers mutations by it) and
// the sanitizers check the decoder's memory accesses too.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
