import { describeRelapseShard } from "./relapse.js";

describeRelapseShard(0);
