# node-gyp build of the m1kit addon. The kernel sources are compiled once per instruction set
# (static libraries m1k_scalar / m1k_avx2 / m1k_avx512; the partial levels m1k_avx512bf16 and m1k_amx)
# and chosen slot by slot at run time (cpu/dispatch.cc).
# The CUDA library is built separately by build.mjs with nvcc (it is optional and loaded with dlopen).
{
  "target_defaults": {
    "cflags": ["-O3", "-fPIC", "-ffp-contract=off", "-fvisibility=hidden"],
    "cflags_cc": ["-std=gnu++17", "-fexceptions"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"]
  },
  "targets": [
    {
      "target_name": "m1k_scalar",
      "type": "static_library",
      "sources": ["cpu/isa_scalar.cc"]
    },
    {
      "target_name": "m1kit",
      "sources": [
        "napi/addon.cc",
        "napi/ops_attention.cc",
        "napi/ops_quant.cc",
        "napi/ops_misc.cc",
        "napi/ops_io.cc",
        "napi/ops_sha.cc",
        "cpu/sha256_ni.cc",
        "napi/cuda_bridge.cc",
        "cuda/lightning_tc_emu.cc",
        "cpu/dispatch.cc"
      ],
      "dependencies": ["m1k_scalar"],
      "libraries": ["-ldl", "-lpthread"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["m1k_avx2", "m1k_avx512", "m1k_avx512bf16", "m1k_amx"],
          "defines": ["M1K_HAVE_X86_ISAS"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "m1k_avx2",
          "type": "static_library",
          "sources": ["cpu/isa_avx2.cc"],
          "cflags": ["-mavx2", "-mfma", "-mf16c"]
        },
        {
          "target_name": "m1k_avx512",
          "type": "static_library",
          "sources": ["cpu/isa_avx512.cc"],
          "cflags": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma", "-mf16c", "-mprefer-vector-width=512", "-Wno-uninitialized", "-Wno-maybe-uninitialized"]
        },
        {
          "target_name": "m1k_avx512bf16",
          "type": "static_library",
          "sources": ["cpu/isa_avx512bf16.cc"],
          "cflags": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512bf16", "-mavx2", "-mfma", "-mf16c", "-mprefer-vector-width=512", "-Wno-uninitialized", "-Wno-maybe-uninitialized"]
        },
        {
          "target_name": "m1k_amx",
          "type": "static_library",
          "sources": ["cpu/isa_amx.cc"],
          "cflags": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512bf16", "-mamx-tile", "-mamx-bf16", "-mavx2", "-mfma", "-mf16c", "-mprefer-vector-width=512", "-Wno-uninitialized", "-Wno-maybe-uninitialized"]
        }
      ]
    }]
  ]
}
