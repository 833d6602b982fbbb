/**
 * The example contracts' interface descriptions (`sdk/assemblyscript/contracts/*.interface.json`)
 * as `const` values, so that `bindContract` infers their methods' types. A test
 * checks each against its JSON file.
 */
import type { ContractInterface } from "./contract.js";

/** `token.interface.json`. */
export const TOKEN_INTERFACE = {
  "name": "token",
  "standard": "grc20",
  "encoding": "selector byte, then arguments little-endian; u32 accounts, u64 amounts",
  "init": {
    "args": [
      {
        "name": "supply",
        "type": "u64"
      }
    ]
  },
  "methods": [
    {
      "name": "transfer",
      "selector": 1,
      "args": [
        {
          "name": "to",
          "type": "u32"
        },
        {
          "name": "amount",
          "type": "u64"
        }
      ],
      "returns": [],
      "mutates": true
    },
    {
      "name": "approve",
      "selector": 2,
      "args": [
        {
          "name": "spender",
          "type": "u32"
        },
        {
          "name": "amount",
          "type": "u64"
        }
      ],
      "returns": [],
      "mutates": true
    },
    {
      "name": "transferFrom",
      "selector": 3,
      "args": [
        {
          "name": "from",
          "type": "u32"
        },
        {
          "name": "to",
          "type": "u32"
        },
        {
          "name": "amount",
          "type": "u64"
        }
      ],
      "returns": [],
      "mutates": true
    },
    {
      "name": "balanceOf",
      "selector": 4,
      "args": [
        {
          "name": "account",
          "type": "u32"
        }
      ],
      "returns": [
        {
          "name": "balance",
          "type": "u64"
        }
      ],
      "mutates": false
    },
    {
      "name": "allowance",
      "selector": 5,
      "args": [
        {
          "name": "owner",
          "type": "u32"
        },
        {
          "name": "spender",
          "type": "u32"
        }
      ],
      "returns": [
        {
          "name": "amount",
          "type": "u64"
        }
      ],
      "mutates": false
    },
    {
      "name": "totalSupply",
      "selector": 6,
      "args": [],
      "returns": [
        {
          "name": "supply",
          "type": "u64"
        }
      ],
      "mutates": false
    }
  ],
  "events": [
    {
      "name": "transfer",
      "topic": "transfer",
      "data": [
        {
          "name": "from",
          "type": "u32"
        },
        {
          "name": "to",
          "type": "u32"
        },
        {
          "name": "amount",
          "type": "u64"
        }
      ]
    },
    {
      "name": "approval",
      "topic": "approval",
      "data": [
        {
          "name": "owner",
          "type": "u32"
        },
        {
          "name": "spender",
          "type": "u32"
        },
        {
          "name": "amount",
          "type": "u64"
        }
      ]
    }
  ],
  "errors": [
    "bad input",
    "insufficient balance",
    "insufficient allowance"
  ]
} as const satisfies ContractInterface;

/** `amm.interface.json`. */
export const AMM_INTERFACE = {
  "name": "amm",
  "standard": null,
  "encoding": "selector byte, then arguments little-endian; token ids u8 (0 GCC, 1 SPIRIT, 2 MANA, 3 GHOST), u64 amounts",
  "init": {
    "args": [
      {
        "name": "tokenA",
        "type": "u8"
      },
      {
        "name": "tokenB",
        "type": "u8"
      }
    ]
  },
  "methods": [
    {
      "name": "add",
      "selector": 1,
      "args": [],
      "returns": [],
      "mutates": true,
      "value": "the liquidity: one of the pair's tokens"
    },
    {
      "name": "swap",
      "selector": 2,
      "args": [
        {
          "name": "minOut",
          "type": "u64"
        }
      ],
      "returns": [
        {
          "name": "out",
          "type": "u64"
        }
      ],
      "mutates": true,
      "value": "the amount in: one of the pair's tokens"
    },
    {
      "name": "remove",
      "selector": 3,
      "args": [
        {
          "name": "token",
          "type": "u8"
        },
        {
          "name": "amount",
          "type": "u64"
        }
      ],
      "returns": [],
      "mutates": true
    },
    {
      "name": "quote",
      "selector": 4,
      "args": [
        {
          "name": "tokenIn",
          "type": "u8"
        },
        {
          "name": "amountIn",
          "type": "u64"
        }
      ],
      "returns": [
        {
          "name": "out",
          "type": "u64"
        }
      ],
      "mutates": false
    }
  ],
  "events": [
    {
      "name": "swap",
      "topic": "0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
      "data": [
        {
          "name": "tokenIn",
          "type": "u8"
        },
        {
          "name": "amountIn",
          "type": "u64"
        },
        {
          "name": "out",
          "type": "u64"
        }
      ]
    }
  ],
  "errors": [
    "bad input",
    "bad token",
    "unauthorized",
    "no value",
    "unexpected value",
    "empty pool",
    "slippage",
    "too large",
    "transfer failed",
    "no config"
  ]
} as const satisfies ContractInterface;

/** `escrow.interface.json`. */
export const ESCROW_INTERFACE = {
  "name": "escrow",
  "standard": null,
  "encoding": "selector byte, then arguments little-endian; token ids u8 (0 GCC, 1 SPIRIT, 2 MANA, 3 GHOST); amounts u128 little-endian",
  "init": {
    "args": [
      {
        "name": "seller",
        "type": "u32"
      },
      {
        "name": "arbiter",
        "type": "u32"
      }
    ]
  },
  "methods": [
    {
      "name": "fund",
      "selector": 1,
      "args": [],
      "returns": [],
      "mutates": true,
      "value": "the payment: any token, amount > 0"
    },
    {
      "name": "release",
      "selector": 2,
      "args": [],
      "returns": [],
      "mutates": true
    },
    {
      "name": "refund",
      "selector": 3,
      "args": [],
      "returns": [],
      "mutates": true
    },
    {
      "name": "status",
      "selector": 4,
      "args": [],
      "returns": [
        {
          "name": "state",
          "type": "u8"
        },
        {
          "name": "buyer",
          "type": "u32"
        },
        {
          "name": "token",
          "type": "u8"
        },
        {
          "name": "amount",
          "type": "u128"
        }
      ],
      "mutates": false
    }
  ],
  "events": [],
  "errors": [
    "bad input",
    "funded",
    "no value",
    "not funded",
    "unauthorized",
    "unexpected value",
    "transfer failed",
    "no config"
  ]
} as const satisfies ContractInterface;

/** `router.interface.json`. */
export const ROUTER_INTERFACE = {
  "name": "router",
  "standard": null,
  "encoding": "selector byte, then arguments little-endian; addresses 32 bytes; token ids u8 (0 GCC, 1 SPIRIT, 2 MANA, 3 GHOST); u64 amounts",
  "init": null,
  "methods": [
    {
      "name": "swap",
      "selector": 1,
      "args": [
        {
          "name": "amm",
          "type": "address"
        },
        {
          "name": "tokenOut",
          "type": "u8"
        },
        {
          "name": "minOut",
          "type": "u64"
        }
      ],
      "returns": [
        {
          "name": "out",
          "type": "u64"
        }
      ],
      "mutates": true,
      "value": "the amount in"
    },
    {
      "name": "swap2",
      "selector": 2,
      "args": [
        {
          "name": "amm1",
          "type": "address"
        },
        {
          "name": "tokenMid",
          "type": "u8"
        },
        {
          "name": "amm2",
          "type": "address"
        },
        {
          "name": "tokenOut",
          "type": "u8"
        },
        {
          "name": "minOut",
          "type": "u64"
        }
      ],
      "returns": [
        {
          "name": "out",
          "type": "u64"
        }
      ],
      "mutates": true,
      "value": "the amount in"
    }
  ],
  "events": [],
  "errors": [
    "bad input",
    "no value",
    "bad token",
    "amm failed",
    "bad amm",
    "slippage",
    "transfer failed",
    "too large"
  ]
} as const satisfies ContractInterface;

/** `counter.interface.json`. */
export const COUNTER_INTERFACE = {
  "name": "counter",
  "standard": null,
  "init": null,
  "methods": [
    {
      "name": "increment",
      "selector": null,
      "args": [],
      "returns": [
        {
          "name": "count",
          "type": "u64"
        }
      ],
      "mutates": true
    }
  ],
  "events": []
} as const satisfies ContractInterface;
